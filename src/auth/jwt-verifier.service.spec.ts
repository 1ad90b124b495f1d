import { JwksServer, startJwksServer } from '../../test/support/jwks-server';
import { loadConfig } from '../config/app-config';
import { InvalidTokenError, MissingRolesError } from './auth.errors';
import { DEFAULT_JWKS_CACHE_OPTIONS } from './jwks-key-source';
import { JwtVerifier } from './jwt-verifier.service';

describe('JwtVerifier', () => {
  let issuer: JwksServer;

  const verifier = (env: Record<string, string> = {}) =>
    new JwtVerifier(
      loadConfig({
        NODE_ENV: 'test',
        AUTH_MODE: 'jwt',
        AUTH_JWKS_URL: issuer.url,
        AUTH_ISSUER: issuer.issuer,
        AUTH_AUDIENCE: issuer.audience,
        AUTH_ALGORITHMS: 'ES256',
        ...env,
      }),
      DEFAULT_JWKS_CACHE_OPTIONS,
    );

  beforeAll(async () => {
    issuer = await startJwksServer({ alg: 'ES256' });
  });

  afterAll(async () => {
    await issuer.stop();
  });

  it('returns the caller named by a valid ES256 token', async () => {
    const token = await issuer.signToken({
      sub: 'idim',
      azp: 'idim-app',
      roles: ['Rooms.ReadWrite', 42],
    });

    const client = await verifier().verify(token);

    expect(client).toMatchObject({
      sub: 'idim',
      clientId: 'idim-app',
      roles: ['Rooms.ReadWrite'],
    });
    expect(client.claims.iss).toBe(issuer.issuer);
  });

  it('takes the client id from appid on Entra v1 tokens', async () => {
    const token = await issuer.signToken({ appid: 'legacy-app' });

    await expect(verifier().verify(token)).resolves.toMatchObject({
      clientId: 'legacy-app',
      roles: [],
    });
  });

  it('refuses a token without sub', async () => {
    const token = await issuer.signToken({ sub: undefined });

    const error = await verifier()
      .verify(token)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidTokenError);
    expect((error as Error).message).toBe('The token has no sub claim.');
  });

  it('refuses a token whose sub is not a string', async () => {
    const token = await issuer.signToken({ sub: 7 });

    await expect(verifier().verify(token)).rejects.toBeInstanceOf(
      InvalidTokenError,
    );
  });

  it('names every missing role, and treats a roles claim that is no list as none', async () => {
    const token = await issuer.signToken({ roles: 'Rooms.Read' });
    const strict = verifier({ AUTH_REQUIRED_ROLES: 'Rooms.Read,Rooms.Write' });

    const error = await strict.verify(token).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MissingRolesError);
    expect((error as MissingRolesError).missingRoles).toEqual([
      'Rooms.Read',
      'Rooms.Write',
    ]);
  });

  it('refuses a token it accepted once as soon as the token expires', async () => {
    const strict = verifier({ AUTH_CLOCK_SKEW_SECONDS: '0' });
    const expiresAt = Math.floor(Date.now() / 1000) + 2;
    const token = await issuer.signToken({ exp: expiresAt });
    await expect(strict.verify(token)).resolves.toMatchObject({
      sub: 'client-app',
    });

    // Wait until the expiry second is past; accepted tokens are remembered,
    // but never beyond it.
    await new Promise((resolve) =>
      setTimeout(resolve, expiresAt * 1000 - Date.now() + 100),
    );

    await expect(strict.verify(token)).rejects.toThrow(
      'The token has expired.',
    );
  });

  it('refuses to start with an HMAC algorithm in the allow-list', () => {
    expect(() => verifier({ AUTH_ALGORITHMS: 'RS256,HS256' })).toThrow(
      'AUTH_ALGORITHMS: HS256 cannot be checked against the public keys of a JWKS',
    );
  });

  it('is disabled with AUTH_MODE=none', () => {
    const off = new JwtVerifier(
      loadConfig({ NODE_ENV: 'test', AUTH_MODE: 'none' }),
      DEFAULT_JWKS_CACHE_OPTIONS,
    );

    expect(off.enabled).toBe(false);
  });
});
