import { generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { SignJWT } from 'jose';

import { startTestSimulator, TestSimulator } from '../support/simulator';

const CLIENT_ID = 'maxconf-client';
const CONFERENCES = '/api/admin/configuration/v1/conference/';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

function keyPair() {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

describe('Pexip simulator: OAuth 2.0 over HTTP', () => {
  const client = keyPair();
  let pexip: TestSimulator;

  /** An assertion as Pexip's own CLI makes one, with overrides. */
  const assertion = (
    overrides: { key?: KeyObject; audience?: string; expiresIn?: string } = {},
  ) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setIssuer(CLIENT_ID)
      .setSubject(CLIENT_ID)
      .setAudience(overrides.audience ?? `${pexip.url}/oauth/token/`)
      .setIssuedAt()
      .setExpirationTime(overrides.expiresIn ?? '1h')
      .setJti(randomUUID())
      .sign(overrides.key ?? client.privateKey);

  const requestToken = async (form: Record<string, string>) => {
    const response = await fetch(`${pexip.url}/oauth/token/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    return {
      status: response.status,
      body: (await response.json()) as Record<string, string>,
    };
  };

  const exchange = async (jwt: string) =>
    requestToken({
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: jwt,
    });

  const listWithToken = (target: TestSimulator, token: string) =>
    fetch(`${target.url}${CONFERENCES}`, {
      headers: { Authorization: `Bearer ${token}` },
    });

  beforeAll(async () => {
    pexip = await startTestSimulator({
      oauthClients: [
        {
          clientId: CLIENT_ID,
          publicKeyPem: client.publicKey
            .export({ type: 'spki', format: 'pem' })
            .toString(),
        },
      ],
    });
  });

  afterAll(() => pexip.close());

  it('exchanges a good assertion for a bearer token the API accepts', async () => {
    const token = await exchange(await assertion());

    const response = await listWithToken(pexip, token.body.access_token);

    expect(token).toEqual({
      status: 200,
      body: {
        access_token: expect.stringMatching(/^[\w-]{43}$/),
        token_type: 'Bearer',
        expires_in: 3600,
      },
    });
    expect(response.status).toBe(200);
  });

  it('accepts an audience naming another host, as long as the path is the token endpoint', async () => {
    const token = await exchange(
      await assertion({ audience: 'https://manager.example.com/oauth/token/' }),
    );

    expect(token.status).toBe(200);
  });

  it('keeps accepting Basic credentials beside OAuth', async () => {
    expect((await pexip.api('GET', CONFERENCES)).status).toBe(200);
  });

  it.each([
    [
      'signed with another key',
      () => assertion({ key: keyPair().privateKey }),
      'the assertion signature does not verify',
    ],
    [
      'for another audience',
      () => assertion({ audience: 'https://manager.example.com/api/' }),
      'invalid_claim: aud',
    ],
    [
      'already expired',
      () => assertion({ expiresIn: '-1m' }),
      'the assertion expired',
    ],
  ])(
    'refuses an assertion %s with 401 invalid_client',
    async (_case, make, description) => {
      const token = await exchange(await make());

      expect(token).toEqual({
        status: 401,
        body: { error: 'invalid_client', error_description: description },
      });
    },
  );

  it('refuses an assertion from an unknown client', async () => {
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('stranger')
      .setSubject('stranger')
      .setAudience(`${pexip.url}/oauth/token/`)
      .setExpirationTime('1h')
      .setJti(randomUUID())
      .sign(client.privateKey);

    const token = await exchange(jwt);

    expect(token).toEqual({
      status: 401,
      body: { error: 'invalid_client', error_description: 'unknown client' },
    });
  });

  it('refuses another grant type with 400', async () => {
    const token = await requestToken({ grant_type: 'password' });

    expect(token).toEqual({
      status: 400,
      body: {
        error: 'unsupported_grant_type',
        error_description: 'use client_credentials',
      },
    });
  });

  it('refuses a request without an assertion with 400 invalid_request', async () => {
    const token = await requestToken({ grant_type: 'client_credentials' });

    expect(token.status).toBe(400);
    expect(token.body.error).toBe('invalid_request');
  });

  it('refuses an expired access token with an empty 401', async () => {
    const shortLived = await startTestSimulator({
      tokenLifetimeSeconds: 1,
      oauthClients: [
        {
          clientId: CLIENT_ID,
          publicKeyPem: client.publicKey
            .export({ type: 'spki', format: 'pem' })
            .toString(),
        },
      ],
    });
    try {
      const response = await fetch(`${shortLived.url}/oauth/token/`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: ASSERTION_TYPE,
          client_assertion: await assertion({
            audience: `${shortLived.url}/oauth/token/`,
          }),
        }),
      });
      const { access_token: token, expires_in: lifetime } =
        (await response.json()) as { access_token: string; expires_in: number };

      await sleep(1_200);
      const expired = await listWithToken(shortLived, token);

      expect(lifetime).toBe(1);
      expect(expired.status).toBe(401);
      expect(await expired.text()).toBe('');
    } finally {
      await shortLived.close();
    }
  });

  it('issues no token when no OAuth client is configured', async () => {
    const basicOnly = await startTestSimulator();
    try {
      const response = await fetch(`${basicOnly.url}/oauth/token/`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: ASSERTION_TYPE,
          client_assertion: await assertion(),
        }),
      });

      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        error: 'invalid_client',
        error_description: 'unknown client',
      });
    } finally {
      await basicOnly.close();
    }
  });
});
