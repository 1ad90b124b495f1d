import { AxiosHeaders, AxiosResponse } from 'axios';
import { jwtVerify } from 'jose';
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { captureLogs } from '../../test/pexip/support/log-capture';
import {
  createPexipCredentials,
  PexipBasicCredentials,
  PexipOAuthCredentials,
  TokenRequester,
} from './pexip-auth';
import { PexipTimeoutError, PexipUnavailableError } from './pexip.errors';

const TOKEN_URL = 'https://pexip.example.org/oauth/token/';
const { privateKey, publicKey } = generateKeyPairSync('ec', {
  namedCurve: 'P-256',
});
const PKCS8_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

function answer(status: number, data: unknown): AxiosResponse {
  return {
    status,
    statusText: '',
    headers: {},
    config: { headers: new AxiosHeaders() },
    data,
  };
}

/** A token endpoint that issues token-1, token-2, … and records forms. */
function tokenEndpoint(expiresIn = 3600) {
  const forms: URLSearchParams[] = [];
  const requester: jest.MockedFunction<TokenRequester> = jest.fn((form) => {
    forms.push(form);
    return Promise.resolve(
      answer(200, {
        access_token: `token-${forms.length}`,
        token_type: 'Bearer',
        expires_in: expiresIn,
      }),
    );
  });
  return { requester, forms };
}

function oauth(requester: TokenRequester, clock = { now: 1_000_000 }) {
  return new PexipOAuthCredentials(
    'maxconf-client',
    PKCS8_PEM,
    () => TOKEN_URL,
    requester,
    () => clock.now,
  );
}

const soon = () => Date.now() + 5000;

let logs: ReturnType<typeof captureLogs>;
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => logs.restore());

describe('PexipOAuthCredentials', () => {
  it('trades an ES256 client assertion for a bearer token', async () => {
    const { requester, forms } = tokenEndpoint();

    const header = await oauth(requester).authorization(soon());

    expect(header).toBe('Bearer token-1');
    const form = forms[0];
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    const { payload, protectedHeader } = await jwtVerify(
      form.get('client_assertion') ?? '',
      publicKey as KeyObject,
      {
        issuer: 'maxconf-client',
        subject: 'maxconf-client',
        audience: TOKEN_URL,
        currentDate: new Date(1_000_000),
      },
    );
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload.iat).toBe(1000);
    expect(payload.exp).toBe(1300);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('signs a new jti for every assertion', async () => {
    const { requester, forms } = tokenEndpoint();
    const credentials = oauth(requester);

    await credentials.authorization(soon());
    await credentials.renew('Bearer token-1', soon());

    const jtis = await Promise.all(
      forms.map(async (form) => {
        const { payload } = await jwtVerify(
          form.get('client_assertion') ?? '',
          publicKey as KeyObject,
          { currentDate: new Date(1_000_000) },
        );
        return payload.jti;
      }),
    );
    expect(new Set(jtis).size).toBe(2);
  });

  it('asks for one token when many callers need one at once', async () => {
    const { requester } = tokenEndpoint();
    const credentials = oauth(requester);

    const headers = await Promise.all(
      Array.from({ length: 10 }, () => credentials.authorization(soon())),
    );

    expect(requester).toHaveBeenCalledTimes(1);
    expect(new Set(headers)).toEqual(new Set(['Bearer token-1']));
  });

  it('keeps the token until 60 s before it expires, then renews it', async () => {
    const { requester } = tokenEndpoint(3600);
    const clock = { now: 1_000_000 };
    const credentials = oauth(requester, clock);
    await credentials.authorization(soon());

    clock.now += 3539_000;
    const stillCached = await credentials.authorization(soon());
    clock.now += 2_000;
    const renewed = await credentials.authorization(soon());

    expect(stillCached).toBe('Bearer token-1');
    expect(renewed).toBe('Bearer token-2');
    expect(requester).toHaveBeenCalledTimes(2);
  });

  it('renews a short-lived token at half its lifetime', async () => {
    const { requester } = tokenEndpoint(100);
    const clock = { now: 1_000_000 };
    const credentials = oauth(requester, clock);
    await credentials.authorization(soon());

    clock.now += 49_000;
    const stillCached = await credentials.authorization(soon());
    clock.now += 2_000;
    const renewed = await credentials.authorization(soon());

    expect([stillCached, renewed]).toEqual([
      'Bearer token-1',
      'Bearer token-2',
    ]);
  });

  it('assumes one hour when Pexip does not say how long the token lives', async () => {
    const requester = jest.fn(() =>
      Promise.resolve(answer(200, { access_token: 'abc' })),
    );
    const clock = { now: 1_000_000 };
    const credentials = oauth(requester, clock);
    await credentials.authorization(soon());

    clock.now += 3000_000;
    await credentials.authorization(soon());

    expect(requester).toHaveBeenCalledTimes(1);
  });

  it('replaces a refused token with a new one', async () => {
    const { requester } = tokenEndpoint();
    const credentials = oauth(requester);
    const first = await credentials.authorization(soon());

    const second = await credentials.renew(first, soon());

    expect(second).toBe('Bearer token-2');
  });

  it('renews once when several callers report the same refused token', async () => {
    const { requester } = tokenEndpoint();
    const credentials = oauth(requester);
    const first = await credentials.authorization(soon());

    const renewed = await Promise.all(
      Array.from({ length: 5 }, () => credentials.renew(first, soon())),
    );
    const late = await credentials.renew(first, soon());

    expect(new Set([...renewed, late])).toEqual(new Set(['Bearer token-2']));
    expect(requester).toHaveBeenCalledTimes(2);
  });

  it('fails with the OAuth error when Pexip refuses the assertion', async () => {
    const requester = jest.fn(() =>
      Promise.resolve(
        answer(401, {
          error: 'invalid_client',
          error_description: 'invalid_claim',
        }),
      ),
    );

    const failure = oauth(requester).authorization(soon());

    await expect(failure).rejects.toThrow(PexipUnavailableError);
    await expect(failure).rejects.toMatchObject({
      status: 401,
      message:
        'Pexip gave no access token (status 401, invalid_client: invalid_claim)',
    });
    expect(logs.at('error')).toEqual([
      expect.stringContaining('check PEXIP_CLIENT_ID and PEXIP_PRIVATE_KEY'),
    ]);
  });

  it('fails when a 200 answer carries no token', async () => {
    const requester = jest.fn(() => Promise.resolve(answer(200, {})));

    await expect(oauth(requester).authorization(soon())).rejects.toMatchObject({
      name: 'PexipUnavailableError',
      status: 200,
    });
  });

  it('gives up waiting for a token at the caller deadline', async () => {
    const requester = jest.fn(() => new Promise<AxiosResponse>(() => {}));

    const failure = oauth(requester).authorization(Date.now() + 50);

    await expect(failure).rejects.toThrow(PexipTimeoutError);
  });

  it('accepts a SEC1 "EC PRIVATE KEY" as well as PKCS#8', () => {
    const sec1 = privateKey.export({ type: 'sec1', format: 'pem' }) as string;

    expect(
      () => new PexipOAuthCredentials('c', sec1, () => TOKEN_URL, jest.fn()),
    ).not.toThrow();
  });

  it('refuses a key that cannot sign ES256', () => {
    const rsa = generateKeyPairSync('rsa', {
      modulusLength: 2048,
    }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const p384 = generateKeyPairSync('ec', {
      namedCurve: 'P-384',
    }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

    for (const pem of [rsa, p384]) {
      expect(
        () => new PexipOAuthCredentials('c', pem, () => TOKEN_URL, jest.fn()),
      ).toThrow('PEXIP_PRIVATE_KEY must be an ES256 key');
    }
  });
});

describe('createPexipCredentials', () => {
  const base = {
    url: 'https://pexip.example.org',
    username: 'api',
    password: 's3cret',
  };

  it('uses Basic when no OAuth client is configured', async () => {
    const credentials = createPexipCredentials(
      { ...base, clientId: undefined, privateKeyPem: undefined },
      jest.fn(),
    );

    expect(credentials).toBeInstanceOf(PexipBasicCredentials);
    expect(credentials.renewable).toBe(false);
    expect(await credentials.authorization(soon())).toBe(
      `Basic ${Buffer.from('api:s3cret').toString('base64')}`,
    );
  });

  it('uses OAuth with the token URL of the management node', async () => {
    const { requester, forms } = tokenEndpoint();
    const credentials = createPexipCredentials(
      { ...base, clientId: 'c', privateKeyPem: PKCS8_PEM },
      requester,
    );

    await credentials.authorization(soon());

    const { payload } = await jwtVerify(
      forms[0].get('client_assertion') ?? '',
      publicKey as KeyObject,
    );
    expect(credentials).toBeInstanceOf(PexipOAuthCredentials);
    expect(payload.aud).toBe('https://pexip.example.org/oauth/token/');
  });
});
