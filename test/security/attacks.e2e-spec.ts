import { exportSPKI } from 'jose';
import type { LoggedRequest } from '../../simulator';
import {
  DELETION_QUEUE,
  QUEUE_STORE,
  QueueStore,
} from '../../src/queue/queue.port';
import {
  BASIC_CHALLENGE,
  BEARER_BARE,
  GENESYS_CHALLENGE,
  invalidToken,
} from '../support/auth-challenges';
import { generateSigningKey, SigningKey, tamper } from '../support/jwks-server';
import { Answer, basicHeader, bearerHeader } from '../support/http';
import { expectProblem } from '../support/problem';
import {
  DIVISION,
  ROLE,
  SecurityRig,
  SINK_PASSWORD,
  SINK_USER,
  startSecurityRig,
} from './support/security.rig';
import { CONFERENCES } from '../support/pexip-requests';

/**
 * Every way in, tried against the real service with AUTH_MODE=jwt: the
 * room routes behind the bearer check, the agent widget's route behind
 * Genesys, and the event sink behind HTTP Basic. Each row states the
 * status and the exact `WWW-Authenticate`; a refused request must never
 * reach Pexip.
 */

const ROOM = 'attack-room';
const now = () => Math.floor(Date.now() / 1000);

let rig: SecurityRig;
let stranger: SigningKey;
let sameKid: SigningKey;
let room: { pin: string; guest_pin: string; id: number };

interface Attack {
  name: string;
  method?: string;
  path: string;
  headers?: () => Promise<Record<string, string>> | Record<string, string>;
  body?: unknown;
  arrange?: () => unknown;
  restore?: () => unknown;
  status: number;
  /** The exact `WWW-Authenticate`, or null when there must be none. */
  challenge: string | null;
  then?: (answer: Answer) => unknown;
}

const token = (claims: Record<string, unknown> = {}) => rig.token(claims);

const privateRoute: Attack[] = [
  {
    name: 'no Authorization header',
    path: `/room/${ROOM}`,
    status: 401,
    challenge: BEARER_BARE,
  },
  {
    name: 'Basic credentials instead of a bearer token',
    path: `/room/${ROOM}`,
    headers: () => basicHeader(SINK_USER, SINK_PASSWORD),
    status: 401,
    challenge: BEARER_BARE,
  },
  {
    name: 'expired',
    path: `/room/${ROOM}`,
    headers: async () => bearerHeader(await token({ exp: now() - 600 })),
    status: 401,
    challenge: invalidToken('The token has expired.'),
  },
  {
    name: 'not yet valid (nbf)',
    path: `/room/${ROOM}`,
    headers: async () => bearerHeader(await token({ nbf: now() + 600 })),
    status: 401,
    challenge: invalidToken('The token is not valid yet.'),
  },
  {
    name: 'wrong audience',
    path: `/room/${ROOM}`,
    headers: async () =>
      bearerHeader(await token({ aud: 'api://another-api' })),
    status: 401,
    challenge: invalidToken('The token is meant for another audience.'),
  },
  {
    name: 'wrong issuer',
    path: `/room/${ROOM}`,
    headers: async () =>
      bearerHeader(
        await token({
          iss: 'https://login.microsoftonline.com/other-tenant/v2.0',
        }),
      ),
    status: 401,
    challenge: invalidToken('The token comes from an unexpected issuer.'),
  },
  {
    name: 'alg none (unsigned)',
    path: `/room/${ROOM}`,
    headers: () => bearerHeader(rig.jwks.unsignedToken({ roles: [ROLE] })),
    status: 401,
    challenge: invalidToken(
      'The token is signed with an algorithm this API does not accept.',
    ),
  },
  {
    name: 'HS256 signed with the issuer’s public key as the secret',
    path: `/room/${ROOM}`,
    headers: async () => {
      const secret = Buffer.from(await exportSPKI(rig.jwks.keys[0].publicKey));
      return bearerHeader(
        await rig.jwks.signToken(
          { roles: [ROLE] },
          { alg: 'HS256', key: secret },
        ),
      );
    },
    status: 401,
    challenge: invalidToken(
      'The token is signed with an algorithm this API does not accept.',
    ),
  },
  {
    name: 'unknown kid',
    path: `/room/${ROOM}`,
    headers: async () =>
      bearerHeader(
        await rig.jwks.signToken(
          { roles: [ROLE] },
          { kid: 'key-unknown', key: stranger.privateKey },
        ),
      ),
    status: 401,
    challenge: invalidToken('No signing key of the issuer matches the token.'),
  },
  {
    name: 'kid of the served key, signed by another key',
    path: `/room/${ROOM}`,
    headers: async () =>
      bearerHeader(
        await rig.jwks.signToken(
          { roles: [ROLE] },
          { kid: 'key-1', key: sameKid.privateKey },
        ),
      ),
    status: 401,
    challenge: invalidToken('The token signature is not valid.'),
  },
  {
    name: 'payload tampered after signing (role added)',
    path: `/room/${ROOM}`,
    headers: async () =>
      bearerHeader(tamper(await rig.jwks.signToken({}), { roles: [ROLE] })),
    status: 401,
    challenge: invalidToken('The token signature is not valid.'),
  },
  {
    name: 'valid token without the required app role',
    path: `/room/${ROOM}`,
    headers: async () =>
      bearerHeader(await rig.jwks.signToken({ roles: ['Rooms.Read'] })),
    status: 403,
    challenge: `Bearer realm="maxconf", error="insufficient_scope", error_description="The token lacks the app role(s): ${ROLE}."`,
  },
  {
    name: 'no token on PATCH',
    method: 'PATCH',
    path: `/room/${ROOM}`,
    body: { pin: '5550123456', guest_pin: '5550654321' },
    status: 401,
    challenge: BEARER_BARE,
  },
  {
    name: 'expired token on DELETE',
    method: 'DELETE',
    path: `/room/${ROOM}`,
    headers: async () => bearerHeader(await token({ exp: now() - 600 })),
    status: 401,
    challenge: invalidToken('The token has expired.'),
  },
  {
    name: 'no token on delete-all',
    method: 'DELETE',
    path: '/room?confirm=true',
    status: 401,
    challenge: BEARER_BARE,
  },
  {
    name: 'token without the role on create',
    method: 'POST',
    path: '/room/create?uuiData=6964264d54497a4e4455324c4463324e54517a4d67',
    headers: async () => bearerHeader(await rig.jwks.signToken({})),
    status: 403,
    challenge: `Bearer realm="maxconf", error="insufficient_scope", error_description="The token lacks the app role(s): ${ROLE}."`,
  },
  {
    name: 'alg none on bulk-create',
    method: 'POST',
    path: '/room/bulk-create?count=5',
    headers: () => bearerHeader(rig.jwks.unsignedToken({ roles: [ROLE] })),
    status: 401,
    challenge: invalidToken(
      'The token is signed with an algorithm this API does not accept.',
    ),
  },
];

const publicRoute: Attack[] = [
  {
    name: 'no x-auth-token (a valid bearer token does not count)',
    path: `/public/room/${ROOM}`,
    headers: async () => bearerHeader(await token()),
    status: 401,
    challenge: GENESYS_CHALLENGE,
  },
  {
    name: 'Genesys answers 401',
    path: `/public/room/${ROOM}`,
    headers: () => ({ 'x-auth-token': 'agent-unknown-to-genesys' }),
    status: 401,
    challenge: GENESYS_CHALLENGE,
  },
  {
    name: 'agent of a division that is not allowed',
    path: `/public/room/${ROOM}`,
    arrange: () =>
      rig.genesys.setUser('agent-elsewhere', { divisionId: 'other-division' }),
    headers: () => ({ 'x-auth-token': 'agent-elsewhere' }),
    status: 403,
    challenge: null,
  },
  {
    name: 'Genesys unreachable',
    path: `/public/room/${ROOM}`,
    arrange: () => {
      rig.genesys.setUser('agent-during-outage', { divisionId: DIVISION });
      rig.genesys.down('reset');
    },
    restore: () => rig.genesys.up(),
    headers: () => ({ 'x-auth-token': 'agent-during-outage' }),
    status: 503,
    challenge: null,
  },
];

const eventSink: Attack[] = [
  {
    name: 'wrong password',
    method: 'POST',
    path: '/public/event_sink',
    headers: () => basicHeader(SINK_USER, 'not-the-password'),
    body: { event: 'conference_ended', data: { name: ROOM } },
    status: 401,
    challenge: BASIC_CHALLENGE,
  },
  {
    name: 'wrong user',
    method: 'POST',
    path: '/public/event_sink',
    headers: () => basicHeader('admin', SINK_PASSWORD),
    body: { event: 'conference_ended', data: { name: ROOM } },
    status: 401,
    challenge: BASIC_CHALLENGE,
  },
  {
    name: 'malformed Basic value',
    method: 'POST',
    path: '/public/event_sink',
    headers: () => ({ authorization: 'Basic %%%not-base64%%%' }),
    body: { event: 'conference_ended', data: { name: ROOM } },
    status: 401,
    challenge: BASIC_CHALLENGE,
  },
  {
    name: 'Basic value without a colon',
    method: 'POST',
    path: '/public/event_sink',
    headers: () => ({
      authorization: `Basic ${Buffer.from(SINK_USER + SINK_PASSWORD).toString('base64')}`,
    }),
    body: { event: 'conference_ended', data: { name: ROOM } },
    status: 401,
    challenge: BASIC_CHALLENGE,
  },
  {
    name: 'a valid bearer token instead of Basic',
    method: 'POST',
    path: '/public/event_sink',
    headers: async () => bearerHeader(await token()),
    body: { event: 'conference_ended', data: { name: ROOM } },
    status: 401,
    challenge: BASIC_CHALLENGE,
  },
];

beforeAll(async () => {
  rig = await startSecurityRig();
  stranger = await generateSigningKey('RS256', 'stranger');
  sameKid = await generateSigningKey('RS256', 'key-1');
  room = await rig.pexip.seedRoom({ name: ROOM });
});

afterAll(async () => {
  await rig?.close();
});

async function attempt(attack: Attack): Promise<LoggedRequest[]> {
  await attack.arrange?.();
  try {
    await rig.pexip.control.clearRequests();
    const answer = await rig.send(attack.method ?? 'GET', attack.path, {
      headers: (await attack.headers?.()) ?? {},
      body: attack.body,
    });

    expect({
      status: answer.status,
      challenge: answer.headers.get('www-authenticate'),
    }).toEqual({ status: attack.status, challenge: attack.challenge });
    expectProblem(answer, attack.status);
    return rig.pexip.control.requests();
  } finally {
    await attack.restore?.();
  }
}

describe('private routes (bearer JWT)', () => {
  it.each(privateRoute)(
    '$name → $status, and Pexip is never called',
    async (attack) => {
      expect(await attempt(attack)).toEqual([]);
    },
  );

  it('a valid token with the role reads the room, host PIN included', async () => {
    await rig.pexip.control.clearRequests();

    const answer = await rig.send('GET', `/room/${ROOM}`, {
      headers: bearerHeader(await token()),
    });

    expect(answer.status).toBe(200);
    expect(answer.headers.get('www-authenticate')).toBeNull();
    expect(answer.body).toMatchObject({
      id: room.id,
      name: ROOM,
      pin: room.pin,
      guest_pin: room.guest_pin,
    });
    // The log the refused rows found empty does record the service's calls.
    expect(await rig.pexip.control.requests()).toEqual([
      { method: 'GET', path: `${CONFERENCES}?name=${ROOM}`, status: 200 },
    ]);
  });
});

describe('public room route (Genesys token)', () => {
  it.each(publicRoute)(
    '$name → $status, and Pexip is never called',
    async (attack) => {
      expect(await attempt(attack)).toEqual([]);
    },
  );

  it('an agent of an allowed division reads the room, host PIN included', async () => {
    rig.genesys.setUser('agent-ok', { divisionId: DIVISION });

    const answer = await rig.send('GET', `/public/room/${ROOM}`, {
      headers: { 'x-auth-token': 'agent-ok' },
    });

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      id: room.id,
      name: ROOM,
      service_type: 'conference',
      allow_guests: true,
      pin: room.pin,
      guest_pin: room.guest_pin,
      tag: '',
      aliases: [
        {
          id: expect.any(Number),
          alias: ROOM,
          conference: `/api/admin/configuration/v1/conference/${room.id}/`,
          creation_time: expect.any(String),
          description: '',
        },
      ],
    });
    expect(rig.genesys.lastAuthorization).toBe('Bearer agent-ok');
  });
});

describe('event sink (HTTP Basic)', () => {
  it.each(eventSink)(
    '$name → $status, and nothing is queued for deletion',
    async (attack) => {
      await attempt(attack);

      const store = rig.service.app.get<QueueStore>(QUEUE_STORE);
      expect(await store.counts(DELETION_QUEUE)).toEqual({
        visible: 0,
        invisible: 0,
      });
    },
  );

  it('the right credentials are accepted, and the ended room queued', async () => {
    const answer = await rig.send('POST', '/public/event_sink', {
      headers: basicHeader(SINK_USER, SINK_PASSWORD),
      body: { event: 'conference_ended', data: { name: ROOM } },
    });

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'accepted' });
    const store = rig.service.app.get<QueueStore>(QUEUE_STORE);
    expect(await store.counts(DELETION_QUEUE)).toEqual({
      visible: 0,
      invisible: 1,
    });
  });
});
