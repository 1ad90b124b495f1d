import { exportSPKI } from 'jose';
import { ProblemType } from '../../src/common/problem';
import { ConfigError, loadConfig } from '../../src/config/app-config';
import {
  BASIC_CHALLENGE,
  BEARER_BARE,
  GENESYS_CHALLENGE,
  invalidToken,
} from '../support/auth-challenges';
import { freePort } from '../support/free-port';
import { basicHeader, bearerHeader } from '../support/http';
import {
  generateSigningKey,
  JwksServer,
  SigningKey,
  startJwksServer,
  tamper,
} from '../support/jwks-server';
import { GenesysServer, startGenesysServer } from '../support/genesys-server';
import { AuthTestApp, startAuthTestApp } from './auth-test-app';

/**
 * Every way in, tried over real HTTP against the real guards: one table of
 * requests, each with the status and `WWW-Authenticate` it must get.
 */

const ROLE = 'Rooms.ReadWrite';
const DIVISION = 'sbc-division';
const SINK_USER = 'pexip';
const SINK_PASSWORD = 'sink-pässword';
const SKEW_SECONDS = 30;
// Short, so the rotation row can wait it out; production uses 30 s.
const JWKS_COOLDOWN_MS = 1_000;

let jwks: JwksServer;
let genesys: GenesysServer;
let stranger: SigningKey;
const apps = {} as Record<'jwt' | 'none' | 'coldJwks', AuthTestApp>;

const now = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const goodToken = (claims: Record<string, unknown> = {}) =>
  jwks.signToken({ roles: [ROLE], ...claims });

function send(
  app: AuthTestApp,
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${app.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: method === 'POST' ? '{"event":"conference_ended"}' : undefined,
  });
}

interface Attack {
  name: string;
  /** Which app answers: full JWT checks (default), AUTH_MODE=none, or JWT with an unreachable JWKS. */
  app?: keyof typeof apps;
  method?: 'GET' | 'POST';
  path: string;
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  /** State to set up before the request; `restore` undoes it. */
  arrange?: () => unknown;
  restore?: () => unknown;
  status: number;
  /** Exact `WWW-Authenticate`, or `null` when there must be none. */
  challenge: string | null;
  problemType?: string;
  /** Further assertions on the answer and the servers. */
  then?: (body: Record<string, unknown>) => unknown;
}

const PRIVATE = '/room/private';
const ROOM = '/public/room/kQ3vN0b1c2d3';
const SINK = '/public/event_sink';

let fetchesBefore = 0;
let callsBefore = 0;

const attacks: Attack[] = [
  // Bearer tokens on a private route
  {
    name: 'private route, no Authorization header',
    path: PRIVATE,
    status: 401,
    challenge: BEARER_BARE,
  },
  {
    name: 'private route, Basic credentials instead of a bearer token',
    path: PRIVATE,
    headers: () => basicHeader(SINK_USER, SINK_PASSWORD),
    status: 401,
    challenge: BEARER_BARE,
  },
  {
    name: 'bearer header that is not a token',
    path: PRIVATE,
    headers: () => ({ authorization: 'Bearer not a "token"' }),
    status: 401,
    challenge: invalidToken('The Authorization header is not a bearer token.'),
  },
  {
    name: 'bearer value that is not a JWT',
    path: PRIVATE,
    headers: () => bearerHeader('abc.def'),
    status: 401,
    challenge: invalidToken('The token is malformed.'),
  },
  {
    name: 'valid token (keys served from cache, no refetch)',
    path: PRIVATE,
    arrange: () => (fetchesBefore = jwks.fetchCount),
    headers: async () => bearerHeader(await goodToken({ sub: 'idim-prod' })),
    status: 200,
    challenge: null,
    then: async (body) => {
      expect(body).toEqual({
        sub: 'idim-prod',
        roles: [ROLE],
        client_key: 'sub:idim-prod',
      });
      for (let i = 0; i < 5; i += 1) {
        const again = await send(
          apps.jwt,
          'GET',
          PRIVATE,
          bearerHeader(await goodToken()),
        );
        expect(again.status).toBe(200);
      }
      expect(jwks.fetchCount).toBe(fetchesBefore);
    },
  },
  {
    name: `expired ${5 * SKEW_SECONDS} s ago`,
    path: PRIVATE,
    headers: async () =>
      bearerHeader(await goodToken({ exp: now() - 5 * SKEW_SECONDS })),
    status: 401,
    challenge: invalidToken('The token has expired.'),
  },
  {
    name: 'expired 10 s ago, within the clock skew',
    path: PRIVATE,
    headers: async () => bearerHeader(await goodToken({ exp: now() - 10 })),
    status: 200,
    challenge: null,
  },
  {
    name: `not valid for another ${5 * SKEW_SECONDS} s (nbf)`,
    path: PRIVATE,
    headers: async () =>
      bearerHeader(await goodToken({ nbf: now() + 5 * SKEW_SECONDS })),
    status: 401,
    challenge: invalidToken('The token is not valid yet.'),
  },
  {
    name: 'not valid for another 10 s, within the clock skew',
    path: PRIVATE,
    headers: async () => bearerHeader(await goodToken({ nbf: now() + 10 })),
    status: 200,
    challenge: null,
  },
  {
    name: 'no exp claim',
    path: PRIVATE,
    headers: async () => bearerHeader(await goodToken({ exp: undefined })),
    status: 401,
    challenge: invalidToken('The token has no exp claim.'),
  },
  {
    name: 'wrong audience',
    path: PRIVATE,
    headers: async () =>
      bearerHeader(await goodToken({ aud: 'api://another-api' })),
    status: 401,
    challenge: invalidToken('The token is meant for another audience.'),
  },
  {
    name: 'wrong issuer',
    path: PRIVATE,
    headers: async () =>
      bearerHeader(
        await goodToken({
          iss: 'https://login.microsoftonline.com/other-tenant/v2.0',
        }),
      ),
    status: 401,
    challenge: invalidToken('The token comes from an unexpected issuer.'),
  },
  {
    name: 'alg none (unsigned)',
    path: PRIVATE,
    headers: () => bearerHeader(jwks.unsignedToken({ roles: [ROLE] })),
    status: 401,
    challenge: invalidToken(
      'The token is signed with an algorithm this API does not accept.',
    ),
  },
  {
    name: 'HS256 signed with the public key as HMAC secret',
    path: PRIVATE,
    headers: async () => {
      const pem = await exportSPKI(jwks.keys[0].publicKey);
      const secret = Buffer.from(pem);
      return bearerHeader(
        await jwks.signToken({ roles: [ROLE] }, { alg: 'HS256', key: secret }),
      );
    },
    status: 401,
    challenge: invalidToken(
      'The token is signed with an algorithm this API does not accept.',
    ),
  },
  {
    name: 'unknown kid',
    path: PRIVATE,
    headers: async () =>
      bearerHeader(
        await jwks.signToken(
          { roles: [ROLE] },
          { kid: 'key-unknown', key: stranger.privateKey },
        ),
      ),
    status: 401,
    challenge: invalidToken('No signing key of the issuer matches the token.'),
  },
  {
    name: 'kid of a served key, signed by another key',
    path: PRIVATE,
    headers: async () =>
      bearerHeader(
        await jwks.signToken({ roles: [ROLE] }, { key: stranger.privateKey }),
      ),
    status: 401,
    challenge: invalidToken('The token signature is not valid.'),
  },
  {
    name: 'payload tampered after signing',
    path: PRIVATE,
    headers: async () =>
      bearerHeader(
        tamper(await goodToken({ sub: 'client-app' }), { sub: 'admin' }),
      ),
    status: 401,
    challenge: invalidToken('The token signature is not valid.'),
  },
  {
    name: 'valid token without the required app role',
    path: PRIVATE,
    headers: async () =>
      bearerHeader(await jwks.signToken({ roles: ['Rooms.Read'] })),
    status: 403,
    challenge:
      'Bearer realm="maxconf", error="insufficient_scope", error_description="The token lacks the app role(s): Rooms.ReadWrite."',
    problemType: ProblemType.forbidden,
  },
  {
    name: 'key rotated after start: accepted without restart, JWKS fetched once',
    path: PRIVATE,
    arrange: async () => {
      await jwks.rotateKey();
      // Past the cooldown of any earlier fetch, an unknown kid may refetch.
      await sleep(JWKS_COOLDOWN_MS + 200);
      fetchesBefore = jwks.fetchCount;
    },
    headers: async () => bearerHeader(await goodToken({ sub: 'rotated' })),
    status: 200,
    challenge: null,
    then: async (body) => {
      expect(body.sub).toBe('rotated');
      expect(jwks.keys.map((k) => k.kid)).toEqual(['key-1', 'key-2']);
      expect(jwks.fetchCount).toBe(fetchesBefore + 1);
      for (const kid of ['key-2', 'key-1', 'key-2']) {
        const token = await jwks.signToken({ roles: [ROLE] }, { kid });
        const again = await send(apps.jwt, 'GET', PRIVATE, bearerHeader(token));
        expect(again.status).toBe(200);
      }
      expect(jwks.fetchCount).toBe(fetchesBefore + 1);
    },
  },
  {
    name: 'JWKS endpoint down: cached keys keep working',
    path: PRIVATE,
    arrange: () => {
      jwks.down();
      fetchesBefore = jwks.fetchCount;
    },
    restore: () => jwks.up(),
    headers: async () => bearerHeader(await goodToken()),
    status: 200,
    challenge: null,
    then: () => expect(jwks.fetchCount).toBe(fetchesBefore),
  },
  {
    name: 'JWKS endpoint unreachable and no key cached',
    app: 'coldJwks',
    path: PRIVATE,
    headers: async () => bearerHeader(await goodToken()),
    status: 503,
    challenge: null,
    problemType: ProblemType.dependencyUnavailable,
  },
  {
    name: '@Public route without any token',
    path: '/public/health',
    status: 200,
    challenge: null,
  },

  // Genesys token on the public room route
  {
    name: 'public room, no x-auth-token (a valid bearer JWT does not count)',
    path: ROOM,
    headers: async () => bearerHeader(await goodToken()),
    status: 401,
    challenge: GENESYS_CHALLENGE,
  },
  {
    name: 'public room, Genesys answers 401',
    path: ROOM,
    headers: () => ({ 'x-auth-token': 'agent-unknown' }),
    status: 401,
    challenge: GENESYS_CHALLENGE,
    then: () => expect(genesys.lastAuthorization).toBe('Bearer agent-unknown'),
  },
  {
    name: 'public room, Genesys answers 403',
    path: ROOM,
    arrange: () => genesys.setUser('agent-forbidden', { status: 403 }),
    headers: () => ({ 'x-auth-token': 'agent-forbidden' }),
    status: 401,
    challenge: GENESYS_CHALLENGE,
  },
  {
    name: 'public room, user in another division',
    path: ROOM,
    arrange: () =>
      genesys.setUser('agent-elsewhere', { divisionId: 'other-division' }),
    headers: () => ({ 'x-auth-token': 'agent-elsewhere' }),
    status: 403,
    challenge: null,
    problemType: ProblemType.forbidden,
  },
  {
    name: 'public room, Genesys unreachable',
    path: ROOM,
    arrange: () => {
      genesys.setUser('agent-during-outage', { divisionId: DIVISION });
      genesys.down('reset');
    },
    restore: () => genesys.up(),
    headers: () => ({ 'x-auth-token': 'agent-during-outage' }),
    status: 503,
    challenge: null,
    problemType: ProblemType.dependencyUnavailable,
  },
  {
    name: 'public room, Genesys answers 500',
    path: ROOM,
    arrange: () => genesys.setUser('agent-genesys-500', { status: 500 }),
    headers: () => ({ 'x-auth-token': 'agent-genesys-500' }),
    status: 503,
    challenge: null,
    problemType: ProblemType.dependencyUnavailable,
  },
  {
    name: 'public room, agent of an allowed division',
    path: ROOM,
    arrange: () =>
      genesys.setUser('agent-ok', { id: 'agent-42', divisionId: DIVISION }),
    headers: () => ({ 'x-auth-token': 'agent-ok' }),
    status: 200,
    challenge: null,
    then: (body) =>
      expect(body).toEqual({
        name: 'kQ3vN0b1c2d3',
        genesys_user: { id: 'agent-42', divisionId: DIVISION },
      }),
  },
  {
    name: 'public room, same token again: answered from cache, even with Genesys down',
    path: ROOM,
    arrange: () => {
      callsBefore = genesys.callCount;
      genesys.down('reset');
    },
    restore: () => genesys.up(),
    headers: () => ({ 'x-auth-token': 'agent-ok' }),
    status: 200,
    challenge: null,
    then: () => expect(genesys.callCount).toBe(callsBefore),
  },

  // HTTP Basic on the event sink
  {
    name: 'event sink, right credentials (UTF-8 password)',
    method: 'POST',
    path: SINK,
    headers: () => basicHeader(SINK_USER, SINK_PASSWORD),
    status: 200,
    challenge: null,
    then: (body) => expect(body).toEqual({ status: 'accepted' }),
  },
  {
    name: 'event sink, wrong password',
    method: 'POST',
    path: SINK,
    headers: () => basicHeader(SINK_USER, 'sink-password'),
    status: 401,
    challenge: BASIC_CHALLENGE,
  },
  {
    name: 'event sink, wrong user',
    method: 'POST',
    path: SINK,
    headers: () => basicHeader('admin', SINK_PASSWORD),
    status: 401,
    challenge: BASIC_CHALLENGE,
  },
  {
    name: 'event sink, Basic value that is not base64',
    method: 'POST',
    path: SINK,
    headers: () => ({ authorization: 'Basic %%%not-base64%%%' }),
    status: 401,
    challenge: BASIC_CHALLENGE,
  },
  {
    name: 'event sink, Basic value without a colon',
    method: 'POST',
    path: SINK,
    headers: () => ({
      authorization: `Basic ${Buffer.from(`${SINK_USER}${SINK_PASSWORD}`).toString('base64')}`,
    }),
    status: 401,
    challenge: BASIC_CHALLENGE,
  },
  {
    name: 'event sink, a valid bearer JWT instead of Basic',
    method: 'POST',
    path: SINK,
    headers: async () => bearerHeader(await goodToken()),
    status: 401,
    challenge: BASIC_CHALLENGE,
  },
  {
    name: 'event sink, no Authorization header',
    method: 'POST',
    path: SINK,
    status: 401,
    challenge: BASIC_CHALLENGE,
  },

  // AUTH_MODE=none (development only)
  {
    name: 'AUTH_MODE=none: private route without a token',
    app: 'none',
    path: PRIVATE,
    status: 200,
    challenge: null,
    then: (body) =>
      expect(body).toEqual({
        sub: null,
        roles: [],
        client_key: 'ip:127.0.0.1',
      }),
  },
  {
    name: 'AUTH_MODE=none: the event sink still needs Basic',
    app: 'none',
    method: 'POST',
    path: SINK,
    status: 401,
    challenge: BASIC_CHALLENGE,
  },
];

describe('authentication over HTTP', () => {
  beforeAll(async () => {
    jwks = await startJwksServer({ alg: 'RS256' });
    genesys = await startGenesysServer();
    stranger = await generateSigningKey('RS256', 'stranger');
    const env = {
      NODE_ENV: 'test',
      AUTH_MODE: 'jwt',
      AUTH_JWKS_URL: jwks.url,
      AUTH_ISSUER: jwks.issuer,
      AUTH_AUDIENCE: jwks.audience,
      AUTH_REQUIRED_ROLES: ROLE,
      AUTH_ALGORITHMS: 'RS256',
      AUTH_CLOCK_SKEW_SECONDS: String(SKEW_SECONDS),
      GENESYS_API_URL: genesys.url,
      GENESYS_ALLOWED_DIVISIONS: `${DIVISION},another-division`,
      GENESYS_CACHE_SECONDS: '60',
      GENESYS_TIMEOUT_MS: '2000',
      EVENT_SINK_USERNAME: SINK_USER,
      EVENT_SINK_PASSWORD: SINK_PASSWORD,
    };
    apps.jwt = await startAuthTestApp(env, { cooldownMs: JWKS_COOLDOWN_MS });
    apps.none = await startAuthTestApp({ ...env, AUTH_MODE: 'none' });
    apps.coldJwks = await startAuthTestApp({
      ...env,
      AUTH_JWKS_URL: `http://127.0.0.1:${await freePort()}/keys`,
    });
  });

  afterAll(async () => {
    await Promise.all(Object.values(apps).map((app) => app.close()));
    await jwks?.stop();
    await genesys?.stop();
  });

  it('fetched the JWKS once at start-up', () => {
    expect(jwks.fetchCount).toBe(1);
  });

  it.each(attacks)('$name → $status', async (attack) => {
    await attack.arrange?.();
    try {
      const response = await send(
        apps[attack.app ?? 'jwt'],
        attack.method ?? 'GET',
        attack.path,
        (await attack.headers?.()) ?? {},
      );
      const body = (await response.json()) as Record<string, unknown>;

      expect({
        status: response.status,
        challenge: response.headers.get('www-authenticate'),
      }).toEqual({ status: attack.status, challenge: attack.challenge });
      if (attack.status >= 400) {
        expect(response.headers.get('content-type')).toBe(
          'application/problem+json',
        );
        expect(body).toMatchObject({
          status: attack.status,
          type: attack.problemType ?? expect.any(String),
        });
      }
      await attack.then?.(body);
    } finally {
      await attack.restore?.();
    }
  });

  it('refuses AUTH_MODE=none when NODE_ENV=production', () => {
    const production = {
      NODE_ENV: 'production',
      AUTH_MODE: 'none',
      PEXIP_URL: 'https://pexip.example.org',
      PEXIP_USERNAME: 'admin',
      PEXIP_PASSWORD: 'secret',
      EVENT_SINK_USERNAME: SINK_USER,
      EVENT_SINK_PASSWORD: SINK_PASSWORD,
    };

    expect(() => loadConfig(production)).toThrow(ConfigError);
    expect(() => loadConfig(production)).toThrow(
      'AUTH_MODE: `none` is refused when NODE_ENV=production',
    );
    expect(() => loadConfig({ ...production, AUTH_MODE: undefined })).toThrow(
      'AUTH_JWKS_URL: required when AUTH_MODE=jwt',
    );
  });
});
