import { request as httpRequest } from 'node:http';
import type { LoggedRequest } from '../../../simulator';
import { startService, TestService } from '../../support/service';
import { startTestSimulator, TestSimulator } from '../../support/simulator';

/** Pexip's list of rooms; every room request the service makes goes here. */
export const CONFERENCES = '/api/admin/configuration/v1/conference/';

/** The example of the contract: host `id`, video call id of `123456,765432`. */
export const EXAMPLE_UUI =
  '6964264d54497a4e4455324c4463324e54517a4d67;encoding=hex';
export const EXAMPLE_TAG =
  'https://id.gov.bc.ca/idcheck/protected/video/MTIzNDU2LDc2NTQzMg';

/** The fields of a room answered by POST /room/create, in any order. */
export const CREATED_ROOM_KEYS = [
  'aliases',
  'allow_guests',
  'guest_pin',
  'id',
  'name',
  'service_type',
  'tag',
];
/** The default shape of a room: the created one plus the host PIN. */
export const CONSTRAINED_ROOM_KEYS = [...CREATED_ROOM_KEYS, 'pin'].sort();
export const ALIAS_KEYS = [
  'alias',
  'conference',
  'creation_time',
  'description',
  'id',
];
export const POOL_STATE_KEYS = ['available', 'creating', 'ripening', 'target'];
export const PROBLEM_KEYS = ['detail', 'request_id', 'status', 'title', 'type'];

/** One HTTP answer of the service, its body parsed when it is JSON. */
export interface Answer<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: T;
}

export interface PoolState {
  available: number;
  ripening: number;
  target: number;
  creating: number;
}

/** A running service wired to its own simulator, with request helpers. */
export interface RoomHarness {
  readonly pexip: TestSimulator;
  readonly service: TestService;
  /** Calls the service; a body is sent as JSON. */
  call<T = any>(
    method: string,
    path: string,
    options?: {
      body?: unknown;
      rawBody?: string;
      headers?: Record<string, string>;
    },
  ): Promise<Answer<T>>;
  /** POST /room/create with this uuiData, URL-encoded. */
  create(uuiData: string): Promise<Answer>;
  pool(): Promise<PoolState>;
  /** Bulk-creates `count` pool rooms and waits until all are queued. */
  fillPool(count: number): Promise<void>;
  /**
   * Fills the pool one room at a time, so that the queue order is the
   * order of creation; answers the names of every untagged room on Pexip
   * (on a clean Pexip: the pool), oldest first.
   */
  fillPoolInOrder(count: number): Promise<string[]>;
  /** Every room on the simulator, read straight from it. */
  pexipRooms(): Promise<Record<string, any>[]>;
  /** Back to an empty Pexip, an empty pool and an empty request log. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a simulator and the whole service pointed at it. `env` overrides
 * the quiet defaults of `startService` (no pool top-up, rooms ripe at once).
 *
 * @example
 * const rig = await startRoomHarness({ POOL_TARGET_SIZE: '2' });
 * const answer = await rig.create(EXAMPLE_UUI);
 */
export async function startRoomHarness(
  env: Record<string, string> = {},
): Promise<RoomHarness> {
  const pexip = await startTestSimulator();
  let service: TestService;
  try {
    service = await startService({ PEXIP_URL: pexip.url, ...env });
  } catch (error) {
    await pexip.close();
    throw error;
  }

  const call: RoomHarness['call'] = async (method, path, options = {}) => {
    const hasBody = options.body !== undefined || options.rawBody !== undefined;
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: {
        ...(hasBody ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      body:
        options.rawBody ?? (hasBody ? JSON.stringify(options.body) : undefined),
    });
    return readAnswer(response);
  };

  const pool = async () => (await call<PoolState>('GET', '/room/pool')).body;

  const fillPool = async (count: number) => {
    const before = await pool();
    const wanted = before.available + before.ripening + count;
    const accepted = await call('POST', `/room/bulk-create?count=${count}`);
    expect(accepted.status).toBe(202);
    await waitFor(
      pool,
      (state) =>
        state.creating === 0 && state.available + state.ripening === wanted,
      `${count} pool rooms queued`,
    );
  };

  const pexipRooms = async () => {
    const rooms: Record<string, any>[] = [];
    let next: string | null = `${CONFERENCES}?limit=1000`;
    while (next) {
      const page: { body: { objects: []; meta: { next: string | null } } } =
        await pexip.api('GET', next);
      rooms.push(...page.body.objects);
      next = page.body.meta.next;
    }
    return rooms;
  };

  return {
    pexip,
    service,
    call,
    create: (uuiData) =>
      call('POST', `/room/create?uuiData=${encodeURIComponent(uuiData)}`),
    pool,
    fillPool,
    async fillPoolInOrder(count) {
      for (let i = 0; i < count; i++) {
        await fillPool(1);
      }
      const rooms = await pexipRooms();
      return rooms
        .filter((room) => room.tag === '')
        .sort((a, b) => a.id - b.id)
        .map((room) => room.name as string);
    },
    pexipRooms,
    async reset() {
      await pexip.control.reset();
      // With Pexip empty this only clears the pool queue.
      const cleared = await call('DELETE', '/room?confirm=true');
      if (cleared.status !== 200) {
        throw new Error(
          `Emptying the pool answered ${cleared.status}: ${cleared.text}`,
        );
      }
      await pexip.control.clearRequests();
    },
    async close() {
      await service.close();
      await pexip.close();
    },
  };
}

/** Reads a fetch answer; JSON bodies (problem+json too) are parsed. */
export async function readAnswer(response: Response): Promise<Answer> {
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: /json/.test(type) && text !== '' ? JSON.parse(text) : undefined,
  };
}

/**
 * Sends a request with the path exactly as given. `fetch` normalises paths
 * (`/room/..` becomes `/`), which hides what a hostile client can send.
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: hostname, port, method, path },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: text === '' ? undefined : JSON.parse(text),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end();
  });
}

/** The hex `uuiData` of `<host>&<video_call_id>`, with `;encoding=hex`. */
export function uuiFor(
  host: string,
  videoCallId: string,
  suffix = ';encoding=hex',
): string {
  return `${Buffer.from(`${host}&${videoCallId}`, 'latin1').toString('hex')}${suffix}`;
}

/** The tag the default template builds. */
export function tagFor(host: string, videoCallId: string): string {
  return `https://${host}.gov.bc.ca/idcheck/protected/video/${videoCallId}`;
}

/**
 * Calls `probe` until `accept` holds, and answers its last value.
 * @throws Error naming `what` and the last value when `timeoutMs` passes.
 */
export async function waitFor<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  // Below Jest's default test timeout, so a miss reports what it saw.
  timeoutMs = 4_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `Waited ${timeoutMs} ms for ${what}; last saw ${JSON.stringify(value)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Requests that change something on Pexip. */
export function writesOf(requests: readonly LoggedRequest[]): LoggedRequest[] {
  return requests.filter((request) => request.method !== 'GET');
}

/** The decoded query of a logged request's path. */
export function queryOf(request: LoggedRequest): URLSearchParams {
  return new URL(request.path, 'http://pexip.invalid').searchParams;
}

/** The value of one Prometheus sample, 0 when absent. */
export function metricValue(
  exposition: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  const wanted = Object.entries(labels).map(
    ([key, value]) => `${key}="${value}"`,
  );
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((label) => line.includes(label))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return 0;
}

/**
 * Checks the RFC 9457 shape every error answer shares, and that the body's
 * request id is the one in the X-Request-Id header.
 */
export function expectProblem(answer: Answer, status: number): void {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(
    /^application\/problem\+json/,
  );
  expect(answer.body).toEqual(
    expect.objectContaining({
      type: expect.any(String),
      title: expect.any(String),
      status,
      detail: expect.any(String),
      request_id: expect.any(String),
    }),
  );
  expect(answer.body.detail).not.toBe('');
  const keys = Object.keys(answer.body).filter((key) => key !== 'errors');
  expect(keys.sort()).toEqual(PROBLEM_KEYS);
  expect(answer.body.request_id).toBe(answer.headers.get('x-request-id'));
  expect(answer.text).not.toMatch(/\bat .+\.(ts|js):\d+/);
}
