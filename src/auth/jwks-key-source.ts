import { Logger } from '@nestjs/common';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  FlattenedJWSInput,
  JSONWebKeySet,
  JWSHeaderParameters,
  KeyLike,
} from 'jose';
import { KeySetUnavailableError } from './auth.errors';

/** How the issuer's key set is cached; see `DEFAULT_JWKS_CACHE_OPTIONS`. */
export interface JwksCacheOptions {
  /**
   * Least time between two fetches. A token whose `kid` is unknown starts a
   * fetch only once this has passed since the last one, so a flood of
   * forged tokens cannot turn into a flood of calls to the issuer; after a
   * failed fetch, the keys fetched before are used this long without retry.
   */
  readonly cooldownMs: number;
  /** Age after which the cached set is fetched again before its next use. */
  readonly maxAgeMs: number;
  /** Timeout of one fetch of the key set. */
  readonly timeoutMs: number;
}

/**
 * Entra ID publishes a new signing key weeks before using it, so ten
 * minutes of caching never misses a rotation; an unknown `kid` forces an
 * earlier fetch anyway.
 */
export const DEFAULT_JWKS_CACHE_OPTIONS: JwksCacheOptions = {
  cooldownMs: 30_000,
  maxAgeMs: 10 * 60_000,
  timeoutMs: 5_000,
};

/**
 * The token issuer's public signing keys, fetched from its JWKS URL and
 * cached. Keys are looked up by the token's `kid`; an unknown `kid` makes
 * the set be fetched again (at most once per cooldown), so a key rotation
 * is picked up without a restart.
 *
 * When the URL cannot be fetched, the keys fetched before keep verifying
 * tokens (an issuer outage does not lock every caller out); only a token
 * that none of them fits fails, with `KeySetUnavailableError`.
 *
 * @example await jwtVerify(token, new JwksKeySource(url).getKey, options);
 */
export class JwksKeySource {
  private readonly logger = new Logger(JwksKeySource.name);
  private readonly remote: ReturnType<typeof createRemoteJWKSet>;
  private lastFailureAt: number | undefined;

  constructor(
    private readonly url: string,
    private readonly options: JwksCacheOptions = DEFAULT_JWKS_CACHE_OPTIONS,
  ) {
    this.remote = createRemoteJWKSet(new URL(url), {
      cooldownDuration: options.cooldownMs,
      cacheMaxAge: options.maxAgeMs,
      timeoutDuration: options.timeoutMs,
    });
  }

  /**
   * Fetches the key set once, so that start-up logs show whether the issuer
   * can be reached. Never throws: a failure is logged and the next token
   * tries again.
   */
  async warmUp(): Promise<void> {
    try {
      await this.remote.reload();
      const count = this.remote.jwks()?.keys.length ?? 0;
      this.logger.log(`Fetched ${count} token signing key(s) from ${this.url}`);
    } catch (error) {
      this.markUnreachable(error, undefined);
    }
  }

  /**
   * Finds the key that verifies a token; pass it to `jwtVerify`.
   *
   * @throws JWKSNoMatchingKey (from jose) when the issuer has no such key.
   * @throws KeySetUnavailableError when the set cannot be fetched and no
   *   key fetched before fits the token.
   */
  readonly getKey = async (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<KeyLike> => {
    // `jwks()` is the set of the last successful fetch; jose keeps it when
    // a later fetch fails.
    const lastKnown = this.remote.jwks();
    if (lastKnown && this.failedRecently()) {
      return this.fromLastKnown(lastKnown, header, token);
    }

    try {
      const key = await this.remote(header, token);
      this.markReachable();
      return key;
    } catch (error) {
      if (isVerdictOnToken(error)) throw error;
      this.markUnreachable(error, lastKnown);
      if (!lastKnown) {
        throw new KeySetUnavailableError(
          `The token issuer's signing keys cannot be fetched from ${this.url}: ${describe(error)}`,
          { cause: error },
        );
      }
      return this.fromLastKnown(lastKnown, header, token);
    }
  };

  private async fromLastKnown(
    jwks: JSONWebKeySet,
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<KeyLike> {
    try {
      return await createLocalJWKSet(jwks)(header, token);
    } catch (error) {
      // The token may be signed with a key published since the last fetch:
      // it cannot be called forged while the set cannot be fetched.
      if (error instanceof errors.JWKSNoMatchingKey) {
        throw new KeySetUnavailableError(
          `No cached signing key fits the token and ${this.url} cannot be fetched`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  private failedRecently(): boolean {
    return (
      this.lastFailureAt !== undefined &&
      Date.now() - this.lastFailureAt < this.options.cooldownMs
    );
  }

  private markReachable(): void {
    if (this.lastFailureAt === undefined) return;
    this.lastFailureAt = undefined;
    this.logger.log(`Token signing keys can be fetched again from ${this.url}`);
  }

  private markUnreachable(
    error: unknown,
    lastKnown: JSONWebKeySet | undefined,
  ): void {
    const firstFailure = this.lastFailureAt === undefined;
    this.lastFailureAt = Date.now();
    const consequence = lastKnown
      ? `verifying with the ${lastKnown.keys.length} key(s) fetched before`
      : 'private routes answer 503 until it can be fetched';
    const message = `Cannot fetch token signing keys from ${this.url} (${describe(
      error,
    )}); ${consequence}`;
    if (firstFailure) {
      this.logger.warn(message);
    } else {
      this.logger.debug(message);
    }
  }
}

/**
 * Errors that judge the token itself (the issuer answered, but has no key
 * that fits it), as opposed to a failure to fetch the set at all.
 */
function isVerdictOnToken(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSENotSupported
  );
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string'
      ? `${code}: ${error.message}`
      : error.message;
  }
  return String(error);
}
