import { Injectable, Logger } from '@nestjs/common';
import axios, { AxiosInstance, AxiosResponse } from 'axios';
import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import {
  GenesysDivisionNotAllowedError,
  GenesysTokenRejectedError,
  GenesysUnavailableError,
} from './auth.errors';
import { GenesysUser } from './authenticated-client';

/** Genesys Cloud's answer to a token, as remembered in the cache. */
type Verdict =
  | { readonly kind: 'user'; readonly user: GenesysUser }
  | { readonly kind: 'rejected'; readonly status: number };

const USERS_ME_PATH = '/api/v2/users/me';

/** Bounds the memory of the cache, whatever the number of agents. */
const CACHE_MAX_ENTRIES = 10_000;

/**
 * A refused token is remembered briefly so that a widget retrying with the
 * same stale token does not call Genesys each time, yet a fixed login is
 * seen soon.
 */
const REJECTION_CACHE_MS = 10_000;

// Printable ASCII without spaces: anything else cannot be a Genesys token
// and must not reach an outgoing header.
const TOKEN_SHAPE = /^[\x21-\x7e]{1,8192}$/;

/**
 * Checks a Genesys Cloud agent token by asking Genesys who it belongs to
 * (`GET /api/v2/users/me`) and requiring the user's division to be on the
 * allow-list. Answers are cached by a SHA-256 hash of the token (the token
 * itself is never kept), for `GENESYS_CACHE_SECONDS`; concurrent checks of
 * one token share one call.
 *
 * @example const user = await genesys.authorize(token); // { id, divisionId }
 */
@Injectable()
export class GenesysService {
  private readonly logger = new Logger(GenesysService.name);
  private readonly http: AxiosInstance;
  private readonly allowedDivisions: ReadonlySet<string>;
  private readonly cache: LRUCache<string, Verdict> | undefined;
  private readonly inFlight = new Map<string, Promise<Verdict>>();

  constructor(private readonly config: AppConfig) {
    const { apiUrl, timeoutMs, cacheSeconds, allowedDivisions } =
      config.genesys;
    this.allowedDivisions = new Set(allowedDivisions);
    this.http = axios.create({
      baseURL: apiUrl,
      timeout: timeoutMs,
      // A redirect would carry the agent's token to another address.
      maxRedirects: 0,
      maxContentLength: 1_048_576,
      validateStatus: () => true,
      transitional: { clarifyTimeoutError: true },
      headers: { Accept: 'application/json' },
    });
    this.cache =
      cacheSeconds > 0
        ? new LRUCache({ max: CACHE_MAX_ENTRIES, ttl: cacheSeconds * 1000 })
        : undefined;
  }

  /**
   * Returns the Genesys user behind a token if it may read rooms.
   *
   * @param token the Genesys Cloud access token from `x-auth-token`.
   * @throws GenesysTokenRejectedError when the token is malformed or Genesys
   *   refuses it (→ 401).
   * @throws GenesysDivisionNotAllowedError when the user's division is not
   *   allowed, or none is (→ 403).
   * @throws GenesysUnavailableError when Genesys cannot be asked (→ 503).
   */
  async authorize(token: string): Promise<GenesysUser> {
    if (!TOKEN_SHAPE.test(token)) {
      throw new GenesysTokenRejectedError('The token is malformed.');
    }
    if (this.allowedDivisions.size === 0) {
      throw new GenesysDivisionNotAllowedError(
        'No Genesys Cloud division is allowed to read rooms.',
      );
    }

    const verdict = await this.verdictFor(token);
    if (verdict.kind === 'rejected') {
      throw new GenesysTokenRejectedError(
        `Genesys Cloud refused the token (${verdict.status}).`,
      );
    }

    const { user } = verdict;
    if (!user.divisionId || !this.allowedDivisions.has(user.divisionId)) {
      this.logger.debug(
        `Genesys user ${user.id} refused: division ${user.divisionId ?? '(none)'} not allowed`,
      );
      throw new GenesysDivisionNotAllowedError(
        'The Genesys Cloud user belongs to a division that may not read rooms.',
      );
    }
    return user;
  }

  private verdictFor(token: string): Promise<Verdict> {
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = this.cache?.get(key);
    if (cached) return Promise.resolve(cached);

    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.askGenesys(token)
        .then((verdict) => this.remember(key, verdict))
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async askGenesys(token: string): Promise<Verdict> {
    let response: AxiosResponse<unknown>;
    try {
      response = await this.http.get(USERS_ME_PATH, {
        headers: { Authorization: `Bearer ${token}` },
      });
    } catch (error) {
      // Only the code and message: the axios error holds the request
      // headers, and with them the token.
      throw this.unavailable(describeFailure(error));
    }

    if (response.status === 401 || response.status === 403) {
      return { kind: 'rejected', status: response.status };
    }
    if (response.status !== 200) {
      throw this.unavailable(`answered ${response.status}`);
    }
    const user = readUser(response.data);
    if (!user) {
      throw this.unavailable('answered 200 without a user id');
    }
    return { kind: 'user', user };
  }

  private remember(key: string, verdict: Verdict): Verdict {
    if (!this.cache) return verdict;
    if (verdict.kind === 'user') {
      this.cache.set(key, verdict);
    } else {
      const ttl = Math.min(
        REJECTION_CACHE_MS,
        this.config.genesys.cacheSeconds * 1000,
      );
      this.cache.set(key, verdict, { ttl });
    }
    return verdict;
  }

  private unavailable(reason: string): GenesysUnavailableError {
    const message = `Genesys Cloud at ${this.config.genesys.apiUrl} ${reason}`;
    this.logger.warn(`Cannot check an agent token: ${message}`);
    return new GenesysUnavailableError(message);
  }
}

function readUser(body: unknown): GenesysUser | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { id, division } = body as { id?: unknown; division?: unknown };
  if (typeof id !== 'string' || id === '') return undefined;

  const divisionId =
    typeof division === 'object' && division !== null
      ? (division as { id?: unknown }).id
      : undefined;
  return {
    id,
    divisionId: typeof divisionId === 'string' ? divisionId : undefined,
  };
}

function describeFailure(error: unknown): string {
  if (axios.isAxiosError(error)) {
    return `cannot be reached (${error.code ?? 'error'}: ${error.message})`;
  }
  return `cannot be reached (${(error as Error)?.message ?? String(error)})`;
}
