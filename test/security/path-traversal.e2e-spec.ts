import type { LoggedRequest } from '../../simulator';
import { bearerHeader } from '../support/http';
import { expectProblem } from '../support/problem';
import {
  DIVISION,
  SecurityRig,
  startSecurityRig,
} from './support/security.rig';
import { CONFERENCES } from '../support/pexip-requests';

/**
 * Room names from the URL path that try to reach another Pexip resource:
 * encoded slashes and dots, NUL and line breaks, query and fragment
 * characters, double encoding, very long names and non-ASCII. Each is
 * either refused with 400, or looked up by name and nothing else: every
 * call the service makes to Pexip stays on the conference list with the
 * name URL-encoded in the query, or on one room found that way, by id.
 */

const AGENT = 'genesys-agent-paths';

/** Names that can never be a room: 400, and Pexip is not called. */
const REFUSED: [string, string][] = [
  ['encoded ../../', '..%2F..%2Fstatus'],
  ['lower-case encoded ../', '%2e%2e%2f'],
  [
    'encoded ../ towards another resource',
    '%2e%2e%2f%2e%2e%2fconference_alias',
  ],
  ['an encoded slash', 'a%2Fb'],
  [
    'a whole Pexip path',
    'api%2Fadmin%2Fconfiguration%2Fv1%2Fconference%2F1%2F',
  ],
  ['NUL', '%00'],
  ['NUL inside', 'room%00.json'],
  ['a line feed', '%0a'],
  ['CR LF with a header after it', 'a%0d%0aX-Injected%3A%201'],
  ['a tab', 'a%09b'],
  ['a C1 control (NEL)', 'a%C2%85b'],
  ['251 characters', 'x'.repeat(251)],
  ['10,000 characters', 'y'.repeat(10_000)],
  ['invalid UTF-8', '%ff'],
  ['a lone %', '%'],
  ['a broken escape', '%E0%A4%A'],
  ['a %u escape', '%u002e%u002e'],
];

/** Names a room could have: looked up on Pexip by name, and not found. */
const UNKNOWN: [string, string, string][] = [
  ['a query in the name', 'a%3Fb%3Dc', 'a?b=c'],
  ['a second name parameter', 'a%26name%3Dstatus', 'a&name=status'],
  ['a fragment', 'a%23b', 'a#b'],
  ['a double-encoded slash', '%252F', '%2F'],
  ['double-encoded ../', '%252e%252e%252f', '%2e%2e%2f'],
  ['encoded ..', '%2e%2e', '..'],
  ['a plain ..', '..', '..'],
  ['a backslash', '..%5C..%5Cstatus', '..\\..\\status'],
  ['a plus', 'a+b', 'a+b'],
  ['a space', 'a%20b', 'a b'],
  ['a semicolon', 'a;limit=1', 'a;limit=1'],
  ['a right-to-left override', 'a%E2%80%AEb', 'a\u202eb'],
  ['250 characters', 'z'.repeat(250), 'z'.repeat(250)],
];

/** Tricky names that are real rooms here: read, changed, deleted. */
const EXISTING: [string, string, string][] = [
  ['a query in the name', 'q%3Fname%3Dstatus', 'q?name=status'],
  ['a literal %2F', 'p%252Fq', 'p%2Fq'],
  ['dots', '...', '...'],
  ['non-ASCII', '%E6%88%BF%E9%97%B4-%C3%BC', '房间-ü'],
  ['249 characters', 'w'.repeat(249), 'w'.repeat(249)],
];

/** Rooms a wrong turn would reach; they must come out untouched. */
const DECOYS = ['status', 'a', 'b', 'p', 'q', 'conference_alias', '1'];

let rig: SecurityRig;
let token: string;
const ids = new Map<string, number>();
let decoysBefore: Record<string, unknown>[];

beforeAll(async () => {
  rig = await startSecurityRig();
  token = await rig.token();
  rig.genesys.setUser(AGENT, { divisionId: DIVISION });
  for (const name of [...DECOYS, ...EXISTING.map(([, , name]) => name)]) {
    ids.set(name, (await rig.pexip.seedRoom({ name })).id);
  }
  decoysBefore = await Promise.all(
    DECOYS.map(async (name) => (await rig.pexip.findRoom(name))!),
  );
});

afterAll(async () => {
  await rig?.close();
});

type Route = 'GET' | 'PATCH' | 'DELETE' | 'public GET';
const ROUTES: Route[] = ['GET', 'PATCH', 'DELETE', 'public GET'];

function call(route: Route, segment: string) {
  if (route === 'public GET') {
    return rig.send('GET', `/public/room/${segment}`, {
      headers: { 'x-auth-token': AGENT },
    });
  }
  return rig.send(route, `/room/${segment}`, {
    headers: bearerHeader(token),
    body: route === 'PATCH' ? { description: 'changed' } : undefined,
  });
}

/** The service's calls to Pexip during `action`. */
async function pexipCallsDuring(action: () => Promise<unknown>) {
  await rig.pexip.control.clearRequests();
  await action();
  return rig.pexip.control.requests();
}

/** The one shape a look-up by name may take: the list, `?name=` only. */
function expectLookUpByName(request: LoggedRequest, name: string): void {
  const [path, query = ''] = request.path.split(/\?(.*)/s);
  const params = new URLSearchParams(query);

  expect(request.method).toBe('GET');
  expect(path).toBe(CONFERENCES);
  expect([...params.keys()]).toEqual(['name']);
  expect(params.get('name')).toBe(name);
  // Every character that means something in a URL arrives escaped.
  expect(query.slice('name='.length)).not.toMatch(/[/?#&;\s\\]|\.\.\//);
}

describe.each(ROUTES)('%s on a room name', (route) => {
  it.each(REFUSED)(
    '%s is refused with 400 and never reaches Pexip',
    async (_label, segment) => {
      let answer!: Awaited<ReturnType<typeof call>>;
      const calls = await pexipCallsDuring(async () => {
        answer = await call(route, segment);
      });

      expectProblem(answer, 400);
      expect(calls).toEqual([]);
    },
  );

  it.each(UNKNOWN)(
    '%s is looked up by name only, and not found (404)',
    async (_label, segment, name) => {
      let answer!: Awaited<ReturnType<typeof call>>;
      const calls = await pexipCallsDuring(async () => {
        answer = await call(route, segment);
      });

      expectProblem(answer, 404);
      expect(calls).toHaveLength(1);
      expectLookUpByName(calls[0], name);
    },
  );
});

describe.each(EXISTING)('a room named with %s', (_label, segment, name) => {
  const detail = () => `${CONFERENCES}${ids.get(name)}/`;

  it('is read through the private route', async () => {
    let answer!: Awaited<ReturnType<typeof call>>;
    const calls = await pexipCallsDuring(async () => {
      answer = await call('GET', segment);
    });

    expect(answer.status).toBe(200);
    expect(answer.body.name).toBe(name);
    expect(calls).toHaveLength(1);
    expectLookUpByName(calls[0], name);
  });

  it('is read through the widget route', async () => {
    const answer = await call('public GET', segment);

    expect(answer.status).toBe(200);
    expect(answer.body.name).toBe(name);
  });

  it('is changed by id, after a look-up by name', async () => {
    let answer!: Awaited<ReturnType<typeof call>>;
    const calls = await pexipCallsDuring(async () => {
      answer = await call('PATCH', segment);
    });

    expect(answer.status).toBe(202);
    expectLookUpByName(calls[0], name);
    expect(calls.slice(1)).toEqual([
      { method: 'PATCH', path: detail(), status: 202 },
    ]);
    expect((await rig.pexip.findRoom(name))?.description).toBe('changed');
  });

  it('is deleted by id, after a look-up by name, and alone', async () => {
    let answer!: Awaited<ReturnType<typeof call>>;
    const calls = await pexipCallsDuring(async () => {
      answer = await call('DELETE', segment);
    });

    expect(answer.status).toBe(204);
    expectLookUpByName(calls[0], name);
    expect(calls.slice(1)).toEqual([
      { method: 'DELETE', path: detail(), status: 204 },
    ]);
    expect(await rig.pexip.findRoom(name)).toBeUndefined();
  });
});

it('left every decoy room exactly as it was', async () => {
  const after = await Promise.all(
    DECOYS.map((name) => rig.pexip.findRoom(name)),
  );

  expect(after).toEqual(decoysBefore);
});
