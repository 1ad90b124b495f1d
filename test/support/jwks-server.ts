import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  exportJWK,
  generateKeyPair,
  JWK,
  JWTPayload,
  KeyLike,
  SignJWT,
  UnsecuredJWT,
} from 'jose';

export type SigningAlgorithm = 'ES256' | 'RS256';

/** A key pair of the fake issuer; its public half may or may not be served. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateKey: KeyLike;
  readonly publicKey: KeyLike;
  readonly publicJwk: JWK;
}

export interface SignTokenOptions {
  /** `kid` header; default the newest served key's. `null` leaves it out. */
  kid?: string | null;
  /** `alg` header; default the signing key's algorithm. */
  alg?: string;
  /** Key to sign with; default the private key of the served key `kid`. */
  key?: KeyLike | Uint8Array;
  /** Extra or overriding protected-header parameters. */
  header?: Record<string, unknown>;
}

/** A fake OpenID issuer on loopback that serves its public keys as a JWKS. */
export interface JwksServer {
  /** The JWKS URL, as `AUTH_JWKS_URL`. */
  readonly url: string;
  /** The `iss` of its tokens, as `AUTH_ISSUER`. */
  readonly issuer: string;
  /** The default `aud` of its tokens, as `AUTH_AUDIENCE`. */
  readonly audience: string;
  /** Served keys, oldest first. */
  readonly keys: readonly SigningKey[];
  /** Requests received for the JWKS URL, answered or not. */
  readonly fetchCount: number;
  /**
   * Signs a token. Claims default to `iss`, `aud`, `sub: 'client-app'`,
   * `iat` now and `exp` in an hour; a claim set to `undefined` is left out.
   */
  signToken(
    claims?: Record<string, unknown>,
    options?: SignTokenOptions,
  ): Promise<string>;
  /** An unsigned (`alg: none`) token with the same default claims. */
  unsignedToken(claims?: Record<string, unknown>): string;
  /** Adds a new key to the served set (the old ones stay) and returns it. */
  rotateKey(): Promise<SigningKey>;
  /** Makes the JWKS URL answer 503 until `up()`. */
  down(): void;
  up(): void;
  stop(): Promise<void>;
}

/**
 * Makes a key pair that the server does not serve, for forged tokens.
 *
 * @example const stranger = await generateSigningKey('RS256', 'k-stranger');
 */
export async function generateSigningKey(
  alg: SigningAlgorithm,
  kid: string,
): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: true,
  });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

/**
 * Starts the fake issuer on 127.0.0.1 with one key, listening on a free
 * port. The URL shapes follow Entra ID's, with a fake tenant.
 *
 * @example
 * const issuer = await startJwksServer({ alg: 'RS256' });
 * const token = await issuer.signToken({ roles: ['Rooms.ReadWrite'] });
 */
export async function startJwksServer(
  options: { alg?: SigningAlgorithm; audience?: string } = {},
): Promise<JwksServer> {
  const alg = options.alg ?? 'RS256';
  const audience = options.audience ?? 'api://maxconf-test';
  const keys: SigningKey[] = [await generateSigningKey(alg, 'key-1')];
  let fetchCount = 0;
  let available = true;
  const path = '/test-tenant/discovery/v2.0/keys';

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' || req.url !== path) {
      res.writeHead(404).end();
      return;
    }
    fetchCount += 1;
    if (!available) {
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end('down');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}/test-tenant/v2.0`;

  const claimsWithDefaults = (claims: Record<string, unknown>) => {
    const now = Math.floor(Date.now() / 1000);
    const merged: Record<string, unknown> = {
      iss: issuer,
      aud: audience,
      sub: 'client-app',
      iat: now,
      exp: now + 3600,
      ...claims,
    };
    for (const [name, value] of Object.entries(merged)) {
      if (value === undefined) delete merged[name];
    }
    return merged as JWTPayload;
  };

  return {
    url: `${base}${path}`,
    issuer,
    audience,
    get keys() {
      return keys;
    },
    get fetchCount() {
      return fetchCount;
    },
    async signToken(claims = {}, sign = {}) {
      const newest = keys[keys.length - 1];
      const kid = sign.kid === undefined ? newest.kid : sign.kid;
      const served = keys.find((k) => k.kid === kid) ?? newest;
      const header = {
        alg: sign.alg ?? served.alg,
        typ: 'JWT',
        ...(kid === null ? {} : { kid }),
        ...sign.header,
      };
      return new SignJWT(claimsWithDefaults(claims))
        .setProtectedHeader(header)
        .sign(sign.key ?? served.privateKey);
    },
    unsignedToken(claims = {}) {
      return new UnsecuredJWT(claimsWithDefaults(claims)).encode();
    },
    async rotateKey() {
      const key = await generateSigningKey(alg, `key-${keys.length + 1}`);
      keys.push(key);
      return key;
    },
    down() {
      available = false;
    },
    up() {
      available = true;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The token with `claims` merged into its payload and the signature left
 * as it was: what a client that edits its own token sends.
 *
 * @example tamper(await jwks.signToken({}), { roles: ['Rooms.ReadWrite'] })
 */
export function tamper(token: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const forged = Buffer.from(JSON.stringify({ ...decoded, ...claims }));
  return [header, forged.toString('base64url'), signature].join('.');
}
