import { errors } from 'jose';
import { AddressInfo, createServer, Socket } from 'node:net';
import { JwksServer, startJwksServer } from '../../test/support/jwks-server';
import { KeySetUnavailableError } from './auth.errors';
import { DEFAULT_JWKS_CACHE_OPTIONS, JwksKeySource } from './jwks-key-source';

describe('JwksKeySource', () => {
  let issuer: JwksServer;

  beforeEach(async () => {
    issuer = await startJwksServer({ alg: 'ES256' });
  });

  afterEach(async () => {
    await issuer.stop();
  });

  const lookUp = (source: JwksKeySource, kid: string) =>
    source.getKey({ alg: 'ES256', kid }, { payload: '', signature: '' });

  it('fetches the key set once and answers later lookups from cache', async () => {
    const source = new JwksKeySource(issuer.url);

    for (let i = 0; i < 10; i += 1) {
      const key = await lookUp(source, 'key-1');
      expect(key).toMatchObject({ type: 'public' });
    }

    expect(issuer.fetchCount).toBe(1);
  });

  it('does not refetch for unknown kids within the cooldown', async () => {
    const source = new JwksKeySource(issuer.url);
    await lookUp(source, 'key-1');

    for (let i = 0; i < 10; i += 1) {
      await expect(lookUp(source, `forged-${i}`)).rejects.toBeInstanceOf(
        errors.JWKSNoMatchingKey,
      );
    }

    expect(issuer.fetchCount).toBe(1);
  });

  it('refetches for an unknown kid after the cooldown and finds a rotated key', async () => {
    const source = new JwksKeySource(issuer.url, {
      ...DEFAULT_JWKS_CACHE_OPTIONS,
      cooldownMs: 0,
    });
    await lookUp(source, 'key-1');

    const rotated = await issuer.rotateKey();
    const key = await lookUp(source, rotated.kid);

    expect(key).toMatchObject({ type: 'public' });
    expect(issuer.fetchCount).toBe(2);
  });

  it('fails with KeySetUnavailableError while nothing is cached and the URL is down, and recovers', async () => {
    const source = new JwksKeySource(issuer.url);
    issuer.down();

    await expect(lookUp(source, 'key-1')).rejects.toBeInstanceOf(
      KeySetUnavailableError,
    );

    issuer.up();
    await expect(lookUp(source, 'key-1')).resolves.toMatchObject({
      type: 'public',
    });
  });

  it('keeps using the keys fetched before when a refetch fails, and backs off', async () => {
    // A zero maximum age makes every lookup try to refetch.
    const source = new JwksKeySource(issuer.url, {
      ...DEFAULT_JWKS_CACHE_OPTIONS,
      maxAgeMs: 0,
    });
    await lookUp(source, 'key-1');
    issuer.down();

    for (let i = 0; i < 3; i += 1) {
      await expect(lookUp(source, 'key-1')).resolves.toMatchObject({
        type: 'public',
      });
    }

    expect(issuer.fetchCount).toBe(2);
  });

  it('cannot judge a kid it has not cached while the URL is down', async () => {
    const source = new JwksKeySource(issuer.url, {
      ...DEFAULT_JWKS_CACHE_OPTIONS,
      cooldownMs: 0,
    });
    await lookUp(source, 'key-1');
    issuer.down();

    await expect(lookUp(source, 'key-2')).rejects.toBeInstanceOf(
      KeySetUnavailableError,
    );
  });

  it('gives up on a URL that accepts but never answers after the timeout', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as AddressInfo;
    const source = new JwksKeySource(`http://127.0.0.1:${port}/keys`, {
      ...DEFAULT_JWKS_CACHE_OPTIONS,
      timeoutMs: 200,
    });

    try {
      await expect(lookUp(source, 'key-1')).rejects.toThrow(/ERR_JWKS_TIMEOUT/);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await new Promise((r) => silent.close(r));
    }
  });

  it('warms up without throwing when the URL is down', async () => {
    const source = new JwksKeySource(issuer.url);
    issuer.down();

    await expect(source.warmUp()).resolves.toBeUndefined();
    expect(issuer.fetchCount).toBe(1);
  });
});
