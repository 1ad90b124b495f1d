import fc from 'fast-check';
import type { LoggedRequest } from '../../simulator';
import { Answer, basicHeader, send } from '../support/http';
import { CONFERENCES, LIVE_CONFERENCES } from '../support/pexip-requests';
import { SINK_PASSWORD, SINK_USERNAME } from '../support/event-sink';
import { ServiceRig, startServiceRig } from '../support/service-rig';

/**
 * Property-based fuzzing of everything a caller controls, against the
 * running service and simulator: every input gets a 2xx, or a 4xx with a
 * problem+json body; never a 5xx, never a crash, and never a request to a
 * Pexip URL the service has no business calling.
 *
 * Requests go out raw (node:http with the path as given), so that percent
 * signs, dot segments and encoded slashes reach the service unchanged.
 */

/** Runs per property: enough to find the usual suspects, under a minute. */
const RUNS = 300;
/** Seeded so that a failure can be replayed; fast-check prints the seed. */
const SEED = Number(process.env.FUZZ_SEED ?? 20240305);

const SAFE_QUERY_KEYS = new Set([
  'name',
  'name__startswith',
  'tag',
  'limit',
  'offset',
]);

/**
 * True when a logged Pexip request is one the service may send: a list or
 * look-up of rooms with a query of known keys, a create on the room list,
 * one room by its numeric id, or the list of live conferences. Anything
 * else (a write to a whole list, another resource, an odd query key) would
 * mean caller input escaped into the URL.
 */
export function isIntendedPexipRequest(request: LoggedRequest): boolean {
  const url = new URL(request.path, 'http://pexip.invalid');
  const queryKeys = [...url.searchParams.keys()];
  const knownQuery = queryKeys.every((key) => SAFE_QUERY_KEYS.has(key));
  const noRawSpecials = !/[#\\]/.test(request.path);

  if (url.pathname === CONFERENCES) {
    if (request.method === 'GET') {
      return queryKeys.length > 0 && knownQuery && noRawSpecials;
    }
    return request.method === 'POST' && url.search === '';
  }
  if (
    /^\/api\/admin\/configuration\/v1\/conference\/[1-9]\d*\/$/.test(
      request.path,
    )
  ) {
    return ['GET', 'PATCH', 'DELETE'].includes(request.method);
  }
  if (url.pathname === LIVE_CONFERENCES) {
    return request.method === 'GET' && knownQuery && noRawSpecials;
  }
  return false;
}

/** Path fragments that have broken routers and URL builders before. */
const NASTY_FRAGMENTS = [
  '..',
  '.',
  '%2e%2e',
  '%2E',
  '/',
  '%2F',
  '%2f',
  '%5C',
  '\\',
  '%00',
  '%0A',
  '%0d%0a',
  '%',
  '%G1',
  '%C3%A9',
  '%E2%80%AE',
  '%FF',
  '%C0%AF',
  '%25',
  '%3F',
  '?',
  '#',
  '%23',
  '&',
  '=',
  '%26tag%3D',
  ';',
  '+',
  '~',
  '*',
  "'",
  '"',
  '(',
  ')',
  '!',
  '$',
  ',',
  ':',
  '@',
  '[',
  ']',
  '{',
  '}',
  '|',
  '^',
  '`',
  '<',
  '>',
  '%20',
  'api',
  'admin',
  'configuration',
  'v1',
  'conference',
  '1',
  '42',
  'pool',
  'create',
  'a'.repeat(120),
];

/** One path segment as a hostile or careless client might send it. */
const pathSegment = fc.oneof(
  fc
    .array(
      fc.oneof(
        fc.constantFrom(...NASTY_FRAGMENTS),
        fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/),
      ),
      { maxLength: 8 },
    )
    .map((parts) => parts.join('')),
  // Printable ASCII only: node:http refuses other characters in a path.
  fc.string({ unit: fc.constantFrom(...printableAscii()), maxLength: 40 }),
);

/** Text that may or may not look like a uuiData value. */
const uuiData = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.stringMatching(/^[0-9a-fA-F]{0,120}$/),
  fc
    .tuple(
      fc.oneof(
        fc.stringMatching(/^[a-z0-9-]{0,70}$/),
        fc.string({ maxLength: 10 }),
      ),
      fc.oneof(
        fc.stringMatching(/^[A-Za-z0-9+/=_-]{0,260}$/),
        fc.string({ maxLength: 20 }),
      ),
      fc.constantFrom(
        '',
        ';encoding=hex',
        ';encoding=HEX',
        ';encoding=base64',
        ';purpose=x;encoding=hex',
        ';',
        ';encoding',
        ';=;;',
      ),
      fc.boolean(),
    )
    .map(
      ([host, id, suffix, upper]) => `${hex(`${host}&${id}`, upper)}${suffix}`,
    ),
);

const ROOM_FIELDS = [
  'pin',
  'guest_pin',
  'tag',
  'description',
  'participant_limit',
  'mute_all_guests',
  'max_callrate_in',
  'max_callrate_out',
  'host_view',
  'guest_view',
  'call_type',
  'crypto_mode',
];

/** Values of every JSON type, including ones near each rule's edges. */
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    null,
    '',
    '1234',
    '1234#',
    '12345678901234567890#',
    '123456789012345678901',
    '0000',
    127,
    128,
    8192,
    8193,
    -1,
    1_000_001,
    1.5,
    'true',
    'audio',
    'video-only',
    'one_main_seven_pips',
    'besteffort',
    'x'.repeat(251),
    '\u0000',
    '\ud800',
    1e308,
  ),
);

const patchBody = fc.oneof(
  fc.dictionary(fc.constantFrom(...ROOM_FIELDS), anyValue, { maxKeys: 5 }),
  fc.dictionary(
    fc.oneof(fc.constantFrom(...ROOM_FIELDS), fc.string({ maxLength: 12 })),
    anyValue,
    { maxKeys: 4 },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A raw body: JSON of anything, or text that is almost JSON. */
const rawBody = (json: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 4, arbitrary: json.map((value) => JSON.stringify(value) ?? '') },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        '{',
        '{"event":',
        '[]',
        'null',
        '"text"',
        '{"__proto__":{"event":"conference_ended"}}',
        '{"constructor":{"prototype":{"polluted":true}}}',
      ),
    },
  );

const sinkBody = rawBody(
  fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.record(
      {
        node: fc.oneof(fc.string(), fc.integer()),
        seq: fc.oneof(fc.integer(), fc.string()),
        version: fc.oneof(fc.constant(1), fc.jsonValue({ maxDepth: 0 })),
        time: fc.oneof(fc.double(), fc.string()),
        event: fc.oneof(
          fc.constantFrom(
            'conference_ended',
            'conference_started',
            'participant_connected',
            'eventsink_bulk',
            'eventsink_started',
          ),
          fc.string({ maxLength: 20 }),
          fc.jsonValue({ maxDepth: 1 }),
        ),
        data: fc.oneof(
          fc.record(
            {
              name: fc.oneof(pathSegment, fc.jsonValue({ maxDepth: 1 })),
              conference: fc.oneof(pathSegment, fc.jsonValue({ maxDepth: 1 })),
            },
            { requiredKeys: [] },
          ),
          fc.array(
            fc.record({
              event: fc.constantFrom('conference_ended', 'x'),
              data: fc.record({ name: pathSegment }, { requiredKeys: [] }),
            }),
            { maxLength: 4 },
          ),
          fc.jsonValue({ maxDepth: 2 }),
        ),
      },
      { requiredKeys: ['event'] },
    ),
  ),
);

/** A query string of known and unknown keys, values raw or encoded. */
const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(
          'uuiData',
          'constrained_attributes',
          'prefix',
          'tag',
          'count',
          'confirm',
          'limit',
          'offset',
          'name',
          'name__startswith',
          '__proto__',
          'constructor',
          'uuiData[]',
          'tag[x]',
        ),
        fc.stringMatching(/^[a-z_[\]]{1,10}$/),
      ),
      fc.oneof(
        fc.constantFrom(
          'true',
          'false',
          'TRUE',
          '1',
          '0',
          '-1',
          '501',
          '1e3',
          '',
          '%',
          '%00',
          '%26limit%3D0',
          '&',
          'x'.repeat(300),
        ),
        pathSegment,
      ),
      fc.boolean(),
    ),
    { maxLength: 5 },
  )
  .map((pairs) =>
    pairs
      .map(([key, value, encode]) =>
        encode
          ? `${encodeURIComponent(key)}=${encodeURIComponent(value)}`
          : `${key}=${value}`,
      )
      .join('&'),
  );

/** Routes that take a query, safe to call with any of them. */
const queryRoute = fc.constantFrom(
  'GET /room',
  'GET /room/pool',
  'GET /room/fuzz-room',
  'POST /room/create',
  'POST /room/bulk-create',
  'DELETE /room',
  'GET /public/health',
  'GET /public/health/ready',
);

describe('fuzzing the API with hostile input', () => {
  let rig: ServiceRig;
  let seededNames: string[];

  beforeAll(async () => {
    rig = await startServiceRig({
      // A valid bulk create makes few rooms, so the fuzz stays fast.
      BULK_CREATE_MAX: '3',
      PEXIP_TIMEOUT_MS: '2000',
    });
  });

  afterAll(() => rig.close());

  beforeEach(async () => {
    await rig.pexip.control.reset();
    seededNames = [];
    for (const name of ['fuzz-room', 'a b', '..', 'x&tag=y', '%2F']) {
      seededNames.push((await rig.pexip.seedRoom({ name })).name);
    }
    await rig.pexip.control.clearRequests();
  });

  afterEach(async () => {
    const requests = await rig.pexip.control.requests();
    expect(requests.filter((r) => !isIntendedPexipRequest(r))).toEqual([]);
    const alive = await send(rig.service.url, 'GET', '/public/health');
    expect(alive.status).toBe(200);
  });

  /** Statuses seen by the current test, so it can show it reached Pexip. */
  let seen: Map<number, number>;
  beforeEach(() => {
    seen = new Map();
  });
  const successes = () =>
    [...seen].filter(([status]) => status < 300).reduce((n, [, c]) => n + c, 0);
  const refusals = () =>
    [...seen]
      .filter(([status]) => status >= 400)
      .reduce((n, [, c]) => n + c, 0);

  /** Fails the property on a 5xx, or on a 4xx that is not a problem. */
  const expectSane = (answer: Answer, what: string) => {
    seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
    const where = `${what} answered ${answer.status}: ${answer.text.slice(0, 300)}`;
    if (answer.status >= 500 || answer.status < 200) {
      throw new Error(where);
    }
    if (answer.status >= 400) {
      const contentType = answer.headers.get('content-type') ?? '';
      if (!contentType.startsWith('application/problem+json')) {
        throw new Error(`${where} (content-type ${contentType})`);
      }
      if (answer.body?.status !== answer.status || !answer.body?.type) {
        throw new Error(`${where} (not a problem body)`);
      }
    }
  };

  const runs = (numRuns = RUNS) => ({ numRuns, seed: SEED });

  it('answers any uuiData with 200 or a 4xx problem', async () => {
    await fc.assert(
      fc.asyncProperty(uuiData, async (value) => {
        const path = `/room/create?uuiData=${encodeURIComponent(value)}`;
        const answer = await send(rig.service.url, 'POST', path);
        expectSane(answer, `POST ${path}`);
      }),
      runs(),
    );
    expect(successes()).toBeGreaterThan(0);
    expect(refusals()).toBeGreaterThan(0);
  });

  it('answers any room name in the path, for GET, PATCH and DELETE, with 2xx or a 4xx problem', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PATCH', 'DELETE'),
        fc.constantFrom('/room/', '/public/room/'),
        pathSegment,
        async (method, route, segment) => {
          const path = `${route}${segment}`;
          const answer = await send(rig.service.url, method, path, {
            rawBody: method === 'PATCH' ? '{"description":"fuzz"}' : undefined,
          });
          expectSane(answer, `${method} ${path}`);
        },
      ),
      runs(),
    );
    expect(successes()).toBeGreaterThan(0);
    expect(refusals()).toBeGreaterThan(0);
  });

  it('answers any PATCH body with 202 or a 4xx problem', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...seededNames),
        rawBody(patchBody),
        async (name, body) => {
          const path = `/room/${encodeURIComponent(name)}`;
          const answer = await send(rig.service.url, 'PATCH', path, {
            rawBody: body,
          });
          expectSane(answer, `PATCH ${path} ${body.slice(0, 200)}`);
        },
      ),
      runs(),
    );
    expect(successes()).toBeGreaterThan(0);
    expect(refusals()).toBeGreaterThan(0);
  });

  it('answers any event-sink body with 200 or a 4xx problem', async () => {
    await fc.assert(
      fc.asyncProperty(sinkBody, async (body) => {
        const answer = await send(
          rig.service.url,
          'POST',
          '/public/event_sink',
          {
            rawBody: body,
            headers: basicHeader(SINK_USERNAME, SINK_PASSWORD),
          },
        );
        expectSane(answer, `POST /public/event_sink ${body.slice(0, 200)}`);
      }),
      runs(),
    );
    expect(successes()).toBeGreaterThan(0);
    expect(refusals()).toBeGreaterThan(0);
  });

  it('answers any query string with 2xx or a 4xx problem', async () => {
    await fc.assert(
      fc.asyncProperty(queryRoute, queryString, async (route, query) => {
        const [method, path] = route.split(' ');
        const target = `${path}?${query}`;
        const answer = await send(rig.service.url, method, target);
        expectSane(answer, `${method} ${target}`);
      }),
      runs(),
    );
    expect(successes()).toBeGreaterThan(0);
    expect(refusals()).toBeGreaterThan(0);
  });
});

describe('the check on Pexip requests', () => {
  const request = (method: string, path: string): LoggedRequest => ({
    method,
    path,
    status: 200,
  });

  it.each([
    ['GET', `${CONFERENCES}?name=a%26tag%3Db`],
    ['GET', `${CONFERENCES}?limit=1000&tag=x`],
    ['POST', CONFERENCES],
    ['PATCH', `${CONFERENCES}42/`],
    ['DELETE', `${CONFERENCES}42/`],
    ['GET', `${LIVE_CONFERENCES}?limit=1000`],
  ])('accepts %s %s', (method, path) => {
    expect(isIntendedPexipRequest(request(method, path))).toBe(true);
  });

  it.each([
    ['DELETE', CONFERENCES],
    ['DELETE', `${CONFERENCES}?name=x`],
    ['PUT', `${CONFERENCES}42/`],
    ['PATCH', CONFERENCES],
    ['GET', CONFERENCES],
    ['GET', `${CONFERENCES}?name=a&tag=b&id__gt=0`],
    ['GET', `${CONFERENCES}..%2F/`],
    ['DELETE', '/api/admin/configuration/v1/conference_alias/3/'],
    ['GET', '/api/admin/configuration/v1/system_location/'],
    ['POST', `${CONFERENCES}?name=x`],
  ])('refuses %s %s', (method, path) => {
    expect(isIntendedPexipRequest(request(method, path))).toBe(false);
  });
});

function hex(text: string, upper: boolean): string {
  const digits = Buffer.from(text, 'latin1').toString('hex');
  return upper ? digits.toUpperCase() : digits;
}

function printableAscii(): string[] {
  return Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) =>
    String.fromCharCode(0x21 + i),
  );
}
