import { Logger } from '@nestjs/common';
import type { AxiosResponse } from 'axios';
import { createPrivateKey, KeyObject, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { PexipTimeoutError, PexipUnavailableError } from './pexip.errors';
import { OAUTH_TOKEN_PATH } from './pexip.types';

/**
 * How the adapter proves who it is to the management node: HTTP Basic with
 * a web-admin account, or an OAuth 2.0 access token obtained with a signed
 * client assertion. Pexip recommends OAuth for busy integrations because
 * every Basic call against an LDAP-backed account costs an LDAP bind.
 */
export interface PexipCredentials {
  /** True when a 401 can be cured by fetching a new token. */
  readonly renewable: boolean;
  /** What an operator should check when Pexip refuses these credentials. */
  readonly hint: string;
  /**
   * The `Authorization` header value for the next call.
   *
   * @param deadline time (ms since epoch) after which the caller gives up.
   * @throws PexipTimeoutError, PexipUnavailableError when no token can be had.
   */
  authorization(deadline: number): Promise<string>;
  /**
   * A fresh header after Pexip refused `stale`; callers that refused the
   * same token at the same time share one renewal.
   */
  renew(stale: string, deadline: number): Promise<string>;
}

/**
 * Sends the form-encoded token request; the HTTP client supplies it so that
 * token requests share the connection pool, the cap on calls in flight and
 * the call observer. Throws the adapter's errors on timeouts and network
 * failures and resolves with any answer Pexip gives.
 */
export type TokenRequester = (form: URLSearchParams) => Promise<AxiosResponse>;

export interface PexipAuthSettings {
  url: string | undefined;
  username: string;
  password: string;
  clientId: string | undefined;
  privateKeyPem: string | undefined;
}

/**
 * Picks OAuth 2.0 when a client id and key are configured, Basic otherwise.
 *
 * @throws Error when the private key is not an ES256 (P-256) key.
 */
export function createPexipCredentials(
  settings: PexipAuthSettings,
  requestToken: TokenRequester,
): PexipCredentials {
  if (settings.clientId && settings.privateKeyPem) {
    return new PexipOAuthCredentials(
      settings.clientId,
      settings.privateKeyPem,
      () => `${settings.url ?? ''}${OAUTH_TOKEN_PATH}`,
      requestToken,
    );
  }
  return new PexipBasicCredentials(settings.username, settings.password);
}

/** HTTP Basic: the same header for every call; a 401 cannot be cured. */
export class PexipBasicCredentials implements PexipCredentials {
  readonly renewable = false;
  readonly hint = 'check PEXIP_USERNAME and PEXIP_PASSWORD';
  private readonly header: string;

  constructor(username: string, password: string) {
    this.header = `Basic ${Buffer.from(`${username}:${password}`).toString(
      'base64',
    )}`;
  }

  authorization(): Promise<string> {
    return Promise.resolve(this.header);
  }

  renew(): Promise<string> {
    return Promise.resolve(this.header);
  }
}

/** Seconds before expiry at which a token is replaced. */
export const TOKEN_RENEW_LEEWAY_SECONDS = 60;

/** Lifetime of the client assertion sent to the token endpoint. */
const ASSERTION_LIFETIME_SECONDS = 300;

/** Pexip's default token lifetime, assumed when `expires_in` is missing. */
const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;

/**
 * OAuth 2.0 client credentials with a private-key JWT (RFC 7523): signs an
 * ES256 assertion (`iss` = `sub` = client id, `aud` = the token URL, a
 * random `jti`, valid 5 minutes), trades it at `/oauth/token/` for an access
 * token, and keeps the token until 60 s before it expires (half its lifetime
 * for tokens shorter than two minutes). Concurrent callers share one token
 * request. Neither the key, the assertion nor the token is ever logged.
 */
export class PexipOAuthCredentials implements PexipCredentials {
  readonly renewable = true;
  readonly hint =
    'check PEXIP_CLIENT_ID and PEXIP_PRIVATE_KEY, and that the OAuth 2.0 ' +
    'client still exists on the management node with an administrator role ' +
    'that may use the API';
  private readonly logger = new Logger(PexipOAuthCredentials.name);
  private readonly key: KeyObject;
  private token?: { header: string; renewAt: number };
  private pending?: Promise<string>;

  /**
   * @param tokenUrl the token endpoint, also the assertion's audience; read
   *   at each request because the base URL may be set after construction.
   * @param now clock, replaceable in tests.
   * @throws Error when `privateKeyPem` is not a P-256 EC private key.
   */
  constructor(
    private readonly clientId: string,
    privateKeyPem: string,
    private readonly tokenUrl: () => string,
    private readonly requestToken: TokenRequester,
    private readonly now: () => number = Date.now,
  ) {
    this.key = loadEs256Key(privateKeyPem);
  }

  authorization(deadline: number): Promise<string> {
    if (this.token && this.now() < this.token.renewAt) {
      return Promise.resolve(this.token.header);
    }
    return this.fetchShared(deadline);
  }

  renew(stale: string, deadline: number): Promise<string> {
    // Another caller may already have replaced the refused token.
    if (this.token && this.token.header !== stale) {
      return this.authorization(deadline);
    }
    this.token = undefined;
    return this.fetchShared(deadline);
  }

  private fetchShared(deadline: number): Promise<string> {
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return beforeDeadline(this.pending, deadline);
  }

  private async fetchToken(): Promise<string> {
    const requestedAt = this.now();
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type:
        'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await this.signAssertion(requestedAt),
    });

    const response = await this.requestToken(form);

    const body = response.data as Record<string, unknown> | undefined;
    const accessToken = body?.access_token;
    if (
      response.status < 200 ||
      response.status >= 300 ||
      typeof accessToken !== 'string' ||
      accessToken.length === 0
    ) {
      throw this.refused(response);
    }

    // Counted from the request, not the answer, so a slow answer can only
    // make the token be renewed early, never late.
    const lifetime = Number(body?.expires_in);
    const seconds =
      Number.isFinite(lifetime) && lifetime > 0
        ? lifetime
        : DEFAULT_TOKEN_LIFETIME_SECONDS;
    const keepSeconds = Math.max(
      seconds - TOKEN_RENEW_LEEWAY_SECONDS,
      seconds / 2,
    );
    const header = `Bearer ${accessToken}`;
    this.token = { header, renewAt: requestedAt + keepSeconds * 1000 };
    this.logger.debug(
      `Obtained a Pexip access token valid for ${seconds} s; renewing it after ${Math.round(keepSeconds)} s`,
    );
    return header;
  }

  private signAssertion(nowMs: number): Promise<string> {
    const issuedAt = Math.floor(nowMs / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setIssuer(this.clientId)
      .setSubject(this.clientId)
      .setAudience(this.tokenUrl())
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + ASSERTION_LIFETIME_SECONDS)
      .setJti(randomUUID())
      .sign(this.key);
  }

  private refused(response: AxiosResponse): PexipUnavailableError {
    const body = response.data as Record<string, unknown> | undefined;
    // OAuth error codes and descriptions name the problem, never a secret.
    const reason = [body?.error, body?.error_description]
      .filter((part) => typeof part === 'string' && part.length > 0)
      .join(': ');
    const message = `Pexip gave no access token (status ${response.status}${
      reason ? `, ${reason}` : ''
    })`;
    if (response.status === 400 || response.status === 401) {
      this.logger.error(`${message}: ${this.hint}`);
    }
    return new PexipUnavailableError(message, response.status);
  }
}

/**
 * Loads the client's private key; accepts PKCS#8 and SEC1 ("EC PRIVATE
 * KEY") PEM, since key tools produce either.
 */
function loadEs256Key(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new Error('PEXIP_PRIVATE_KEY cannot be read as a PEM private key', {
      cause: error,
    });
  }
  if (
    key.asymmetricKeyType !== 'ec' ||
    key.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  ) {
    throw new Error(
      'PEXIP_PRIVATE_KEY must be an ES256 key (EC on curve P-256), as Pexip generates for OAuth 2.0 clients',
    );
  }
  return key;
}

/** Waits for `promise`, but no later than `deadline` (ms since epoch). */
function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  const left = deadline - Date.now();
  if (left <= 0) {
    return Promise.reject(
      new PexipTimeoutError('No time left to obtain a Pexip access token'),
    );
  }
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new PexipTimeoutError(
            'Pexip did not issue an access token within the call budget',
          ),
        ),
      left,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
