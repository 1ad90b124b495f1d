import { createPublicKey, KeyObject, randomBytes } from 'node:crypto';
import { decodeJwt, errors, jwtVerify } from 'jose';

import { ApiAnswer } from './api-answer';

/** A client allowed to exchange ES256-signed assertions for tokens. */
export interface OAuthClient {
  clientId: string;
  /** The public half of the client's key, as PEM (SPKI). */
  publicKeyPem: string;
}

export const TOKEN_PATH = '/oauth/token/';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

// Beyond this many live tokens, expired ones are swept on the next issue.
const SWEEP_THRESHOLD = 10_000;

/**
 * The management node's OAuth 2.0 token endpoint: the client-credentials
 * grant with a private-key JWT client assertion (RFC 7523), as Pexip's own
 * tools use it, and the registry of access tokens it issued.
 */
export class OAuthIssuer {
  private readonly keys = new Map<string, KeyObject>();
  /** Access token → expiry, in epoch milliseconds. */
  private readonly tokens = new Map<string, number>();

  /**
   * @param clients the clients whose assertions are accepted
   * @param lifetimeSeconds how long an access token lives
   * @throws Error when a public key is not readable PEM
   */
  constructor(
    clients: readonly OAuthClient[],
    private readonly lifetimeSeconds: number,
  ) {
    for (const { clientId, publicKeyPem } of clients) {
      this.keys.set(clientId, createPublicKey(publicKeyPem));
    }
  }

  /**
   * Answers a token request.
   *
   * @param form the form-encoded request body
   * @returns 200 `{access_token, token_type, expires_in}`, 400 for a
   *   malformed request, 401 `invalid_client` for a bad assertion
   */
  async exchange(form: URLSearchParams): Promise<ApiAnswer> {
    if (form.get('grant_type') !== 'client_credentials') {
      return oauthError(
        400,
        'unsupported_grant_type',
        'use client_credentials',
      );
    }
    const assertion = form.get('client_assertion');
    if (form.get('client_assertion_type') !== ASSERTION_TYPE || !assertion) {
      return oauthError(
        400,
        'invalid_request',
        `send client_assertion with client_assertion_type ${ASSERTION_TYPE}`,
      );
    }

    const problem = await this.verify(assertion, form.get('client_id'));
    if (problem) return oauthError(401, 'invalid_client', problem);

    return {
      status: 200,
      headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
      body: {
        access_token: this.issue(),
        token_type: 'Bearer',
        expires_in: this.lifetimeSeconds,
      },
    };
  }

  /** Whether `token` was issued here and has not expired. */
  isValid(token: string): boolean {
    const expiry = this.tokens.get(token);
    return expiry !== undefined && Date.now() < expiry;
  }

  /** @returns why the assertion is refused, or `undefined` when it is good */
  private async verify(
    assertion: string,
    formClientId: string | null,
  ): Promise<string | undefined> {
    let issuer: unknown;
    let audience: unknown;
    try {
      ({ iss: issuer, aud: audience } = decodeJwt(assertion));
    } catch {
      return 'the client assertion is not a JWT';
    }

    const key = typeof issuer === 'string' ? this.keys.get(issuer) : undefined;
    if (!key || (formClientId !== null && formClientId !== issuer)) {
      return 'unknown client';
    }

    try {
      await jwtVerify(assertion, key, {
        algorithms: ['ES256'],
        issuer: issuer as string,
        subject: issuer as string,
        requiredClaims: ['exp', 'jti'],
      });
    } catch (error) {
      if (error instanceof errors.JWTExpired) return 'the assertion expired';
      if (error instanceof errors.JWTClaimValidationFailed) {
        return `invalid_claim: ${error.claim}`;
      }
      return 'the assertion signature does not verify';
    }

    // The audience must be this token endpoint, whatever host name it used.
    const audiences = Array.isArray(audience) ? audience : [audience];
    const forUs = audiences.some(
      (value) =>
        typeof value === 'string' &&
        URL.canParse(value, 'http://localhost') &&
        new URL(value, 'http://localhost').pathname === TOKEN_PATH,
    );
    return forUs ? undefined : 'invalid_claim: aud';
  }

  private issue(): string {
    const now = Date.now();
    if (this.tokens.size >= SWEEP_THRESHOLD) {
      for (const [token, expiry] of this.tokens) {
        if (expiry <= now) this.tokens.delete(token);
      }
    }

    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, now + this.lifetimeSeconds * 1000);
    return token;
  }
}

function oauthError(
  status: number,
  error: string,
  description: string,
): ApiAnswer {
  return {
    status,
    headers: { 'Cache-Control': 'no-store' },
    body: { error, error_description: description },
  };
}
