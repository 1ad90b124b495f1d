import { randomBytes, randomInt } from 'node:crypto';
import { QUEUE_STORE, QueueStore } from '../../src/queue/queue.port';
import { generateSigningKey } from '../support/jwks-server';
import {
  Answer,
  basicHeader,
  bearerHeader,
  SendOptions,
} from '../support/http';
import {
  DIVISION,
  PEXIP_USER,
  SecurityRig,
  SINK_PASSWORD,
  SINK_USER,
  startSecurityRig,
} from './support/security.rig';

/**
 * Every route of the real service, on its happy and failing paths, is
 * driven with recognisable secrets: PINs (sent, read from Pexip, made by
 * the service), bearer tokens, Genesys tokens, event-sink passwords and
 * the service's own Pexip credentials. Then not one of them may appear
 * anywhere in the log text the service wrote.
 */

/** The contract's example uuiData: host `id`, a video call id. */
const EXAMPLE_UUI = '6964264d54497a4e4455324c4463324e54517a4d67;encoding=hex';

type SecretKind =
  | 'PINs read from Pexip'
  | 'PINs sent in PATCH bodies'
  | 'PINs the service made for new rooms'
  | 'bearer tokens'
  | 'Genesys tokens (x-auth-token)'
  | 'event-sink passwords'
  | "the service's Pexip credentials";

const SECRET_KINDS: SecretKind[] = [
  'PINs read from Pexip',
  'PINs sent in PATCH bodies',
  'PINs the service made for new rooms',
  'bearer tokens',
  'Genesys tokens (x-auth-token)',
  'event-sink passwords',
  "the service's Pexip credentials",
];

/** Keys whose values must never be in a log record, whatever they hold. */
const SECRET_KEYS = new Set([
  'authorization',
  'x-auth-token',
  'cookie',
  'password',
  'pin',
  'guest_pin',
  'access_token',
  'client_assertion',
]);

/** A PIN no log line can contain by chance: 14–20 random digits. */
const longPin = () =>
  Array.from({ length: randomInt(14, 21) }, () => randomInt(10)).join('');
const marker = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

interface Step {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly options?: () => Promise<SendOptions> | SendOptions;
  readonly arrange?: () => unknown;
  readonly restore?: () => unknown;
  readonly status: number;
}

const cases = [
  { level: 'trace', pexipAuth: 'basic' },
  { level: 'trace', pexipAuth: 'oauth' },
  { level: 'debug', pexipAuth: 'basic' },
  { level: 'debug', pexipAuth: 'oauth' },
] as const;

describe.each(cases)(
  'logs at LOG_LEVEL=$level, Pexip $pexipAuth auth',
  ({ level, pexipAuth }) => {
    let rig: SecurityRig;
    const secrets = new Map<SecretKind, Set<string>>(
      SECRET_KINDS.map((kind) => [kind, new Set<string>()]),
    );
    const answered: { name: string; status: number }[] = [];
    const expected: { name: string; status: number }[] = [];

    const keep = (kind: SecretKind, ...values: string[]) => {
      for (const value of values) secrets.get(kind)!.add(value);
    };
    const keepToken = (token: string) => {
      // The signature alone would give a leaked token away too.
      const signature = token.split('.')[2];
      keep('bearer tokens', token, ...(signature ? [signature] : []));
      return token;
    };

    beforeAll(async () => {
      rig = await startSecurityRig({
        pexipAuth,
        pexipPassword: marker('pexip-Basic'),
        env: {
          LOG_LEVEL: level,
          PEXIP_TIMEOUT_MS: '400',
          PEXIP_MAX_RETRIES: '1',
          BODY_LIMIT_BYTES: '2048',
          POOL_HOST_PIN_LENGTH: '20',
          POOL_GUEST_PIN_LENGTH: '16',
        },
      });
      for (const step of await trafficFor(rig)) {
        expected.push({ name: step.name, status: step.status });
        answered.push({ name: step.name, status: await run(step) });
      }
      await collectPexipCredentials();
    }, 120_000);

    afterAll(async () => {
      await rig?.close();
    });

    async function run(step: Step): Promise<number> {
      await step.arrange?.();
      try {
        const answer = await rig.send(
          step.method,
          step.path,
          await step.options?.(),
        );
        keepPinsOf(answer);
        return answer.status;
      } finally {
        await step.restore?.();
      }
    }

    function keepPinsOf(answer: Answer): void {
      const visit = (value: unknown): void => {
        if (Array.isArray(value)) return value.forEach(visit);
        if (typeof value !== 'object' || value === null) return;
        for (const [key, inner] of Object.entries(value)) {
          if ((key === 'pin' || key === 'guest_pin') && inner) {
            keep('PINs read from Pexip', String(inner));
          } else {
            visit(inner);
          }
        }
      };
      visit(answer.body);
    }

    async function collectPexipCredentials(): Promise<void> {
      keep("the service's Pexip credentials", rig.pexipPassword);
      for (const header of rig.proxy.authorizations) {
        keep("the service's Pexip credentials", header.split(' ')[1]);
      }
      keep("the service's Pexip credentials", ...rig.proxy.accessTokens);
      for (const assertion of rig.proxy.clientAssertions) {
        keep("the service's Pexip credentials", assertion);
        keep("the service's Pexip credentials", assertion.split('.')[2]);
      }
      if (rig.pexipPrivateKey) {
        const body = rig.pexipPrivateKey.split('\n').filter((line) => {
          return line.length > 0 && !line.startsWith('-----');
        });
        keep("the service's Pexip credentials", ...body);
      }
    }

    /** The requests, in order; each knows the status it must get. */
    async function trafficFor(rig: SecurityRig): Promise<Step[]> {
      const room = await rig.pexip.seedRoom({
        name: 'sec-room-a',
        pin: longPin(),
        guest_pin: longPin(),
      });
      const doomed = await rig.pexip.seedRoom({
        name: 'sec-room-b',
        pin: longPin(),
        guest_pin: longPin(),
      });
      const ended = await rig.pexip.seedRoom({
        name: 'sec-room-ended',
        pin: longPin(),
        guest_pin: longPin(),
      });
      keep(
        'PINs read from Pexip',
        ...[room, doomed, ended].flatMap((r) => [r.pin, r.guest_pin]),
      );

      const token = keepToken(await rig.token({ sub: 'idim-prod' }));
      const agentToken = marker('genesys-agent-ok');
      const refusedAgent = marker('genesys-agent-refused');
      const elsewhereAgent = marker('genesys-agent-elsewhere');
      const outageAgent = marker('genesys-agent-outage');
      rig.genesys.setUser(agentToken, { divisionId: DIVISION });
      rig.genesys.setUser(elsewhereAgent, { divisionId: 'other-division' });
      rig.genesys.setUser(outageAgent, { divisionId: DIVISION });
      keep(
        'Genesys tokens (x-auth-token)',
        agentToken,
        refusedAgent,
        elsewhereAgent,
        outageAgent,
      );
      const wrongSinkPassword = marker('sink-Wrong');
      keep(
        'event-sink passwords',
        SINK_PASSWORD,
        wrongSinkPassword,
        basicHeader(SINK_USER, SINK_PASSWORD).authorization.split(' ')[1],
        basicHeader(SINK_USER, wrongSinkPassword).authorization.split(' ')[1],
      );

      const patchPin = () => {
        const pin = longPin();
        keep('PINs sent in PATCH bodies', pin);
        return pin;
      };
      // Every request also carries the other kinds of credential, so that
      // each route sees each secret.
      const everything = (headers: Record<string, string> = {}) => ({
        ...bearerHeader(token),
        'x-auth-token': agentToken,
        ...headers,
      });
      const withToken = (body?: unknown): SendOptions => ({
        headers: everything(),
        body,
      });
      const sink = (password: string, body: unknown): SendOptions => ({
        headers: {
          ...basicHeader(SINK_USER, password),
          'x-auth-token': agentToken,
        },
        body,
      });
      const stranger = await generateSigningKey('RS256', 'key-1');
      const sinkEvent = (event: string, name: string) => ({
        node: '10.0.1.21',
        seq: 1,
        version: 1,
        time: Date.now() / 1000,
        event,
        data: { name, service_type: 'conference' },
      });

      return [
        // Private routes with a valid token
        {
          name: 'create a room (made on demand)',
          method: 'POST',
          path: `/room/create?uuiData=${encodeURIComponent(EXAMPLE_UUI)}`,
          options: () => withToken(),
          status: 200,
        },
        {
          name: 'create with a uuiData that is not hex',
          method: 'POST',
          path: '/room/create?uuiData=zz',
          options: () => withToken(),
          status: 400,
        },
        {
          name: 'create without uuiData',
          method: 'POST',
          path: '/room/create',
          options: () => withToken(),
          status: 400,
        },
        {
          name: 'read a room',
          method: 'GET',
          path: '/room/sec-room-a',
          options: () => withToken(),
          status: 200,
        },
        {
          name: 'read a room in full',
          method: 'GET',
          path: '/room/sec-room-a?constrained_attributes=false',
          options: () => withToken(),
          status: 200,
        },
        {
          name: 'list rooms',
          method: 'GET',
          path: '/room',
          options: () => withToken(),
          status: 200,
        },
        {
          name: 'list rooms by prefix, in full',
          method: 'GET',
          path: '/room?prefix=sec-&constrained_attributes=false',
          options: () => withToken(),
          status: 200,
        },
        {
          name: 'read a room that does not exist',
          method: 'GET',
          path: '/room/no-such-room',
          options: () => withToken(),
          status: 404,
        },
        {
          name: 'read a room name that climbs out',
          method: 'GET',
          path: '/room/..%2F..%2Fstatus',
          options: () => withToken(),
          status: 400,
        },
        {
          name: 'change both PINs',
          method: 'PATCH',
          path: '/room/sec-room-a',
          options: () => withToken({ pin: patchPin(), guest_pin: patchPin() }),
          status: 202,
        },
        {
          name: 'change PINs to equal ones (Pexip refuses)',
          method: 'PATCH',
          path: '/room/sec-room-a',
          options: () => {
            const pin = patchPin();
            return withToken({ pin, guest_pin: pin });
          },
          status: 400,
        },
        {
          name: 'change the PIN to something that is not a PIN',
          method: 'PATCH',
          path: '/room/sec-room-a',
          options: () => withToken({ pin: `${patchPin()}x` }),
          status: 400,
        },
        {
          name: 'change the PIN with an unknown field beside it',
          method: 'PATCH',
          path: '/room/sec-room-a',
          options: () => withToken({ pin: patchPin(), colour: 'red' }),
          status: 400,
        },
        {
          name: 'change the PIN of a room that does not exist',
          method: 'PATCH',
          path: '/room/no-such-room',
          options: () => withToken({ pin: patchPin() }),
          status: 404,
        },
        {
          name: 'change the PIN with malformed JSON',
          method: 'PATCH',
          path: '/room/sec-room-a',
          options: () => ({
            headers: everything(),
            rawBody: `{"pin": "${patchPin()}", "guest_pin": ${patchPin()}'`,
          }),
          status: 400,
        },
        {
          name: 'change the PIN with a body over the limit',
          method: 'PATCH',
          path: '/room/sec-room-a',
          options: () => ({
            headers: everything(),
            body: { pin: patchPin(), description: patchPin().repeat(200) },
          }),
          status: 413,
        },
        {
          name: 'change the PIN while Pexip fails (503)',
          method: 'PATCH',
          path: '/room/sec-room-a',
          arrange: () =>
            rig.pexip.control.faults({
              method: 'PATCH',
              status: 503,
              times: 10,
            }),
          restore: () => rig.pexip.control.clearFaults(),
          options: () => withToken({ pin: patchPin() }),
          status: 502,
        },
        {
          name: 'change the PIN while Pexip hangs',
          method: 'PATCH',
          path: '/room/sec-room-a',
          arrange: () =>
            rig.pexip.control.faults({
              method: 'PATCH',
              hang: true,
              times: 10,
            }),
          restore: () => rig.pexip.control.clearFaults(),
          options: () => withToken({ guest_pin: patchPin() }),
          status: 504,
        },
        {
          name: 'read a room while Pexip answers 500',
          method: 'GET',
          path: '/room/sec-room-a',
          arrange: () =>
            rig.pexip.control.faults({ method: 'GET', status: 500, times: 10 }),
          restore: () => rig.pexip.control.clearFaults(),
          options: () => withToken(),
          status: 502,
        },
        {
          name: 'read a room while Pexip refuses our credentials',
          method: 'GET',
          path: '/room/sec-room-a',
          arrange: () =>
            rig.pexip.control.faults({ method: 'GET', status: 401, times: 2 }),
          restore: () => rig.pexip.control.clearFaults(),
          options: () => withToken(),
          status: 502,
        },
        {
          name: 'read a room again once Pexip takes our credentials',
          method: 'GET',
          path: '/room/sec-room-a',
          options: () => withToken(),
          status: 200,
        },
        {
          name: 'delete a room',
          method: 'DELETE',
          path: '/room/sec-room-b',
          options: () => withToken(),
          status: 204,
        },
        {
          name: 'delete a room that is gone',
          method: 'DELETE',
          path: '/room/sec-room-b',
          options: () => withToken(),
          status: 404,
        },
        {
          name: 'bulk-create pool rooms',
          method: 'POST',
          path: '/room/bulk-create?count=2',
          options: () => withToken(),
          status: 202,
        },
        {
          name: 'bulk-create too many',
          method: 'POST',
          path: '/room/bulk-create?count=100000',
          options: () => withToken(),
          status: 400,
        },
        {
          name: 'pool state once the bulk create is done',
          method: 'GET',
          path: '/room/pool',
          arrange: () => waitForPool(rig, token, 2),
          options: () => withToken(),
          status: 200,
        },
        {
          name: 'hand out a pool room',
          method: 'POST',
          path: `/room/create?uuiData=${encodeURIComponent(
            '6964264f7468657243616c6c;encoding=hex',
          )}`,
          options: () => withToken(),
          status: 200,
        },
        {
          name: 'delete every room without confirm',
          method: 'DELETE',
          path: '/room',
          options: () => withToken(),
          status: 400,
        },

        // Private routes with bad tokens
        {
          name: 'read a room without a token',
          method: 'GET',
          path: '/room/sec-room-a',
          options: () => ({ headers: { 'x-auth-token': agentToken } }),
          status: 401,
        },
        {
          name: 'change the PIN with an expired token',
          method: 'PATCH',
          path: '/room/sec-room-a',
          options: async () => ({
            headers: bearerHeader(
              keepToken(
                await rig.token({ exp: Math.floor(Date.now() / 1000) - 600 }),
              ),
            ),
            body: { pin: patchPin() },
          }),
          status: 401,
        },
        {
          name: 'read a room with a token signed by another key',
          method: 'GET',
          path: '/room/sec-room-a',
          options: async () => ({
            headers: bearerHeader(
              keepToken(
                await rig.jwks.signToken({}, { key: stranger.privateKey }),
              ),
            ),
          }),
          status: 401,
        },
        {
          name: 'read a room with an unsigned token',
          method: 'GET',
          path: '/room/sec-room-a',
          options: () => ({
            headers: bearerHeader(keepToken(rig.jwks.unsignedToken({}))),
          }),
          status: 401,
        },
        {
          name: 'read a room with a token that lacks the role',
          method: 'GET',
          path: '/room/sec-room-a',
          options: async () => ({
            headers: bearerHeader(keepToken(await rig.jwks.signToken({}))),
          }),
          status: 403,
        },

        // The agent widget's route
        {
          name: 'public room, allowed agent',
          method: 'GET',
          path: '/public/room/sec-room-a',
          options: () => ({ headers: everything() }),
          status: 200,
        },
        {
          name: 'public room, allowed agent with "Bearer " before the token',
          method: 'GET',
          path: '/public/room/sec-room-a',
          options: () => ({
            headers: { 'x-auth-token': `Bearer ${agentToken}` },
          }),
          status: 200,
        },
        {
          name: 'public room that does not exist',
          method: 'GET',
          path: '/public/room/no-such-room',
          options: () => ({ headers: everything() }),
          status: 404,
        },
        {
          name: 'public room, token Genesys refuses',
          method: 'GET',
          path: '/public/room/sec-room-a',
          options: () => ({
            headers: everything({ 'x-auth-token': refusedAgent }),
          }),
          status: 401,
        },
        {
          name: 'public room, agent of another division',
          method: 'GET',
          path: '/public/room/sec-room-a',
          options: () => ({
            headers: everything({ 'x-auth-token': elsewhereAgent }),
          }),
          status: 403,
        },
        {
          name: 'public room, Genesys unreachable',
          method: 'GET',
          path: '/public/room/sec-room-a',
          arrange: () => rig.genesys.down('reset'),
          restore: () => rig.genesys.up(),
          options: () => ({
            headers: everything({ 'x-auth-token': outageAgent }),
          }),
          status: 503,
        },
        {
          name: 'public room, Pexip failing',
          method: 'GET',
          path: '/public/room/sec-room-a',
          arrange: () =>
            rig.pexip.control.faults({ method: 'GET', status: 502, times: 10 }),
          restore: () => rig.pexip.control.clearFaults(),
          options: () => ({ headers: everything() }),
          status: 502,
        },
        {
          name: 'public room without x-auth-token',
          method: 'GET',
          path: '/public/room/sec-room-a',
          options: () => ({ headers: bearerHeader(token) }),
          status: 401,
        },

        // Pexip's event sink
        {
          name: 'event sink, conference started',
          method: 'POST',
          path: '/public/event_sink',
          options: () =>
            sink(SINK_PASSWORD, sinkEvent('conference_started', ended.name)),
          status: 200,
        },
        {
          name: 'event sink, conference ended (bulk)',
          method: 'POST',
          path: '/public/event_sink',
          options: () =>
            sink(SINK_PASSWORD, {
              event: 'eventsink_bulk',
              data: [sinkEvent('conference_ended', ended.name)],
            }),
          status: 200,
        },
        {
          name: 'event sink, wrong password',
          method: 'POST',
          path: '/public/event_sink',
          options: () =>
            sink(wrongSinkPassword, sinkEvent('conference_ended', ended.name)),
          status: 401,
        },
        {
          name: 'event sink, Basic value that is not base64',
          method: 'POST',
          path: '/public/event_sink',
          options: () => ({
            headers: { authorization: `Basic %${SINK_PASSWORD}%` },
            body: sinkEvent('conference_ended', ended.name),
          }),
          status: 401,
        },
        {
          name: 'event sink, malformed JSON',
          method: 'POST',
          path: '/public/event_sink',
          options: () => ({
            headers: basicHeader(SINK_USER, SINK_PASSWORD),
            rawBody: `{"event": "conference_ended", "data": {"pin": "${patchPin()}"`,
          }),
          status: 400,
        },

        // Everything else, with every credential attached
        {
          name: 'liveness',
          method: 'GET',
          path: '/public/health',
          options: () => withToken(),
          status: 200,
        },
        {
          name: 'readiness',
          method: 'GET',
          path: '/public/health/ready',
          options: () => withToken(),
          status: 200,
        },
        {
          name: 'metrics',
          method: 'GET',
          path: '/metrics',
          options: () => withToken(),
          status: 200,
        },
        {
          name: 'OpenAPI document',
          method: 'GET',
          path: '/openapi.json',
          options: () => withToken(),
          status: 200,
        },
        {
          name: 'a route that does not exist',
          method: 'GET',
          path: '/admin/secrets',
          options: () => withToken(),
          status: 404,
        },
        {
          name: 'delete every room',
          method: 'DELETE',
          path: '/room?confirm=true',
          arrange: () => keepPinsMadeByService(rig),
          options: () => withToken(),
          status: 200,
        },

        // An unexpected failure inside the service: its queue store gone
        {
          name: 'pool state with the queue store closed',
          method: 'GET',
          path: '/room/pool',
          arrange: () => rig.service.app.get<QueueStore>(QUEUE_STORE).close(),
          options: () => withToken(),
          status: 503,
        },
        {
          name: 'delete every room with the queue store closed',
          method: 'DELETE',
          path: '/room?confirm=true',
          options: () => withToken(),
          status: 500,
        },
        {
          name: 'event sink with the queue store closed',
          method: 'POST',
          path: '/public/event_sink',
          // A name not sent before: a copy of a stored event never reaches
          // the queue.
          options: () =>
            sink(SINK_PASSWORD, sinkEvent('conference_ended', 'sec-room-new')),
          status: 503,
        },
      ];
    }

    /** Rooms the service made itself carry PINs it generated. */
    async function keepPinsMadeByService(rig: SecurityRig): Promise<void> {
      const page = await rig.pexip.api(
        'GET',
        '/api/admin/configuration/v1/conference/?limit=1000',
      );
      const seeded = new Set(['sec-room-a', 'sec-room-b', 'sec-room-ended']);
      const made = (
        page.body.objects as { name: string; pin: string; guest_pin: string }[]
      ).filter((r) => !seeded.has(r.name));
      expect(made.length).toBeGreaterThanOrEqual(3);
      for (const r of made) {
        keep('PINs the service made for new rooms', r.pin, r.guest_pin);
      }
    }

    it('answers every request with the status its path calls for', () => {
      expect(answered).toEqual(expected);
    });

    it('logged the traffic, down to debug lines', () => {
      const logs = rig.service.logs;
      const urls = logs.map((line) => (line.req as { url?: string })?.url);

      expect(urls).toEqual(
        expect.arrayContaining(['/room/sec-room-a', '/public/event_sink']),
      );
      expect(logs.some((line) => Number(line.level) <= 20)).toBe(true);
      expect(logs.some((line) => Number(line.level) >= 50)).toBe(true);
    });

    it.each(SECRET_KINDS)('never logs %s', (kind) => {
      const values = [...secrets.get(kind)!];
      const text = rig.service.logText();

      expect(values.length).toBeGreaterThan(0);
      expect(values.filter((value) => text.includes(value))).toEqual([]);
    });

    it('never logs a value under a credential key', () => {
      const found: string[] = [];
      const visit = (value: unknown, path: string): void => {
        if (typeof value !== 'object' || value === null) return;
        for (const [key, inner] of Object.entries(value)) {
          if (SECRET_KEYS.has(key.toLowerCase()) && inner !== '[redacted]') {
            found.push(`${path}.${key}`);
          }
          visit(inner, `${path}.${key}`);
        }
      };
      rig.service.logs.forEach((line, index) => visit(line, `line ${index}`));

      expect(found).toEqual([]);
    });

    it(`used ${pexipAuth === 'oauth' ? 'OAuth access tokens' : 'Basic'} towards Pexip`, () => {
      const schemes = new Set(
        rig.proxy.authorizations.map((header) => header.split(' ')[0]),
      );
      expect([...schemes]).toEqual([
        pexipAuth === 'oauth' ? 'Bearer' : 'Basic',
      ]);
      if (pexipAuth === 'basic') {
        expect(rig.proxy.authorizations).toEqual([
          basicHeader(PEXIP_USER, rig.pexipPassword).authorization,
        ]);
      } else {
        expect(rig.proxy.accessTokens.length).toBeGreaterThanOrEqual(2);
      }
    });
  },
);

async function waitForPool(
  rig: SecurityRig,
  token: string,
  available: number,
): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const state = await rig.send('GET', '/room/pool', {
      headers: bearerHeader(token),
    });
    if (state.body?.available === available && state.body?.creating === 0) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`pool never reached ${available}: ${state.text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
