import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { errors, jwtVerify, JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import {
  InvalidTokenError,
  KeySetUnavailableError,
  MissingRolesError,
} from './auth.errors';
import { AuthenticatedClient } from './authenticated-client';
import { JwksCacheOptions, JwksKeySource } from './jwks-key-source';

/** Injection token of the `JwksCacheOptions`; tests shorten the cooldown. */
export const JWKS_CACHE_OPTIONS = Symbol('JWKS_CACHE_OPTIONS');

/** Longest a verified token is taken on trust without a new check. */
const ACCEPTED_TOKEN_MS = 60_000;

// Algorithms whose keys a JWKS can publish. An HMAC algorithm would make
// the public key a shared secret that anyone can sign with.
const ASYMMETRIC_ALGORITHM = /^(?:(?:RS|PS|ES)(?:256|384|512)|ES256K|EdDSA)$/;

/**
 * Checks bearer tokens from the identity provider (Microsoft Entra ID): the
 * signature against the issuer's cached JWKS, an allowed algorithm, `iss`,
 * `aud`, `exp` (required) and `nbf` with the configured clock skew, a `sub`,
 * and every required app role in the `roles` claim.
 *
 * @example const client = await verifier.verify(token); // { sub, roles, … }
 */
@Injectable()
export class JwtVerifier implements OnApplicationBootstrap {
  private readonly logger = new Logger(JwtVerifier.name);
  private readonly keys: JwksKeySource | undefined;
  /**
   * Tokens accepted lately, by SHA-256 of the token. A client sends the
   * same token on every call for the hour it lives, and checking its RS256
   * signature costs about 0.15 ms of CPU each time: with every request
   * checked, that was a tenth of the service's CPU on a room read. An
   * entry lasts at most a minute and never past the token's expiry, so a
   * key the issuer withdraws stops its tokens within that minute.
   */
  private readonly accepted = new LRUCache<string, AuthenticatedClient>({
    max: 10_000,
  });

  /**
   * @throws Error at start-up when `AUTH_ALGORITHMS` names an algorithm that
   *   cannot be checked against public keys.
   */
  constructor(
    private readonly config: AppConfig,
    @Inject(JWKS_CACHE_OPTIONS) cacheOptions: JwksCacheOptions,
  ) {
    const { mode, jwksUrl, algorithms } = config.auth;
    if (mode !== 'jwt' || !jwksUrl) return;

    const unusable = algorithms.filter((a) => !ASYMMETRIC_ALGORITHM.test(a));
    if (unusable.length > 0) {
      throw new Error(
        `AUTH_ALGORITHMS: ${unusable.join(', ')} cannot be checked against ` +
          'the public keys of a JWKS; list asymmetric algorithms such as RS256',
      );
    }
    this.keys = new JwksKeySource(jwksUrl, cacheOptions);
  }

  /** Whether tokens are checked at all (`AUTH_MODE=jwt`). */
  get enabled(): boolean {
    return this.keys !== undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.keys?.warmUp();
  }

  /**
   * Verifies a bearer token and returns the caller it names.
   *
   * @param token the compact JWT, without the `Bearer ` prefix.
   * @throws InvalidTokenError when the token is not acceptable (→ 401).
   * @throws MissingRolesError when a required app role is missing (→ 403).
   * @throws KeySetUnavailableError when the issuer's keys cannot be fetched
   *   (→ 503).
   */
  async verify(token: string): Promise<AuthenticatedClient> {
    if (!this.keys) {
      throw new Error('JwtVerifier.verify called with AUTH_MODE=none');
    }
    const { issuer, audience, algorithms, clockSkewSeconds, requiredRoles } =
      this.config.auth;
    const cacheKey = createHash('sha256').update(token).digest('base64url');
    const known = this.accepted.get(cacheKey);
    if (known) return known;

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys.getKey, {
        issuer,
        audience,
        algorithms: [...algorithms],
        clockTolerance: clockSkewSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      if (error instanceof KeySetUnavailableError) throw error;
      if (!(error instanceof errors.JOSEError)) throw error;
      throw new InvalidTokenError(describeRejection(error), { cause: error });
    }

    const client = toClient(payload);
    const missing = requiredRoles.filter((r) => !client.roles.includes(r));
    if (missing.length > 0) {
      this.logger.debug(
        `Token of ${client.sub} lacks role(s) ${missing.join(', ')}`,
      );
      throw new MissingRolesError(missing);
    }

    // `exp` is required, so it is a number here.
    const untilExpiry =
      ((payload.exp as number) + clockSkewSeconds) * 1000 - Date.now();
    const ttl = Math.min(ACCEPTED_TOKEN_MS, Math.floor(untilExpiry));
    if (ttl > 0) this.accepted.set(cacheKey, client, { ttl });
    return client;
  }
}

function toClient(payload: JWTPayload): AuthenticatedClient {
  const roles = Array.isArray(payload.roles)
    ? payload.roles.filter((r): r is string => typeof r === 'string')
    : [];
  const clientId = [payload.azp, payload.appid].find(
    (value): value is string => typeof value === 'string',
  );
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw new InvalidTokenError('The sub claim of the token is not a string.');
  }
  return { sub: payload.sub, roles, clientId, claims: payload };
}

/**
 * A sentence for the caller. It names what failed but never echoes values
 * taken from the token, and contains no double quote (it goes into a
 * `WWW-Authenticate` parameter).
 */
function describeRejection(error: InstanceType<typeof errors.JOSEError>) {
  if (error instanceof errors.JWTExpired) return 'The token has expired.';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') {
      return `The token has no ${error.claim} claim.`;
    }
    switch (error.claim) {
      case 'nbf':
        return 'The token is not valid yet.';
      case 'iss':
        return 'The token comes from an unexpected issuer.';
      case 'aud':
        return 'The token is meant for another audience.';
      default:
        return `The ${error.claim} claim of the token is not valid.`;
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return 'The token is signed with an algorithm this API does not accept.';
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return 'No signing key of the issuer matches the token.';
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return 'The token does not name its signing key (kid).';
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'The token signature is not valid.';
  }
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid
  ) {
    return 'The token is malformed.';
  }
  return 'The token is not valid.';
}
