import { createPublicKey, generateKeyPairSync } from 'node:crypto';

import { simulatorOptionsFromEnv } from './simulator.env';

describe('simulatorOptionsFromEnv', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
  });
  const privatePem = privateKey
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' });

  it('uses the standalone defaults for an empty environment', () => {
    expect(simulatorOptionsFromEnv({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      username: 'admin',
      password: 'admin',
      latencyMs: 0,
    });
  });

  it('reads port, host, credentials and latency', () => {
    expect(
      simulatorOptionsFromEnv({
        PEXIP_SIMULATOR_PORT: '9000',
        HOST: '127.0.0.1',
        PEXIP_USERNAME: 'api',
        PEXIP_PASSWORD: 's3cret',
        PEXIP_SIMULATOR_LATENCY_MS: '250',
      }),
    ).toEqual({
      port: 9000,
      host: '127.0.0.1',
      username: 'api',
      password: 's3cret',
      latencyMs: 250,
    });
  });

  it.each([
    ['PEM', privatePem],
    ['base64 of PEM', Buffer.from(privatePem).toString('base64')],
  ])('derives the OAuth public key from a %s private key', (_form, key) => {
    const options = simulatorOptionsFromEnv({
      PEXIP_CLIENT_ID: 'maxconf',
      PEXIP_PRIVATE_KEY: key,
    });

    const [client] = options.oauthClients ?? [];
    expect(client.clientId).toBe('maxconf');
    expect(
      createPublicKey(client.publicKeyPem).export({
        type: 'spki',
        format: 'pem',
      }),
    ).toBe(publicPem);
  });

  it('names every variable that is set wrong', () => {
    expect(() =>
      simulatorOptionsFromEnv({
        PEXIP_SIMULATOR_PORT: 'http',
        PEXIP_CLIENT_ID: 'maxconf',
      }),
    ).toThrow(
      'Invalid simulator settings: PEXIP_SIMULATOR_PORT must be a whole ' +
        'number from 0 to 65535; PEXIP_CLIENT_ID and PEXIP_PRIVATE_KEY must ' +
        'be set together.',
    );
  });

  it('refuses a private key it cannot read', () => {
    expect(() =>
      simulatorOptionsFromEnv({
        PEXIP_CLIENT_ID: 'maxconf',
        PEXIP_PRIVATE_KEY: 'not a key',
      }),
    ).toThrow('PEXIP_PRIVATE_KEY must be a PEM private key, or base64 of one');
  });
});
