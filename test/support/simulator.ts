import { randomInt, randomUUID } from 'node:crypto';

import {
  LoggedRequest,
  RunningSimulator,
  SimulatorOptions,
  startSimulator,
} from '../../simulator';
import { CONFERENCES } from './pexip-requests';

/** A fault as the control surface takes it (all fields optional there). */
export interface FaultRequest {
  method?: string;
  path_prefix?: string;
  status?: number;
  times?: number;
  after_commit?: boolean;
  retry_after?: number | string;
  hang?: boolean;
  /** Simulator extension: drop the connection instead of answering. */
  reset?: boolean;
}

/** A simulated call as the control surface takes it. */
export interface CallRequest {
  conference: string;
  duration_ms?: number;
  nodes?: string[];
  sink_url?: string;
  username?: string;
  password?: string;
}

/** What a management-API call answered; `body` is parsed JSON or undefined. */
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A room created straight on the simulator, bypassing the service. */
export interface SeededRoom {
  id: number;
  name: string;
  pin: string;
  guest_pin: string;
  tag: string;
  resource_uri: string;
}

/** Typed calls to the simulator's `/_simulator/` control surface. */
export interface SimulatorControl {
  /** Queues a fault; the next `times` matching requests fail. */
  faults(fault: FaultRequest): Promise<void>;
  clearFaults(): Promise<void>;
  latency(ms: number): Promise<void>;
  /** Management-API requests received so far, oldest first. */
  requests(): Promise<LoggedRequest[]>;
  clearRequests(): Promise<void>;
  /** Starts a simulated call; resolves to the status-API conference id. */
  call(call: CallRequest): Promise<string>;
  /** Forgets every room, fault, call and logged request. */
  reset(): Promise<void>;
}

export interface TestSimulator extends RunningSimulator {
  readonly username: string;
  readonly password: string;
  readonly control: SimulatorControl;
  /** A management-API call with the simulator's Basic credentials. */
  api<T = any>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<ApiResponse<T>>;
  /** Creates a room like a pool room (PINs 6 and 4 digits, one alias). */
  seedRoom(
    room?: Partial<Omit<SeededRoom, 'id' | 'resource_uri'>>,
  ): Promise<SeededRoom>;
  /** The full conference called `name`, or undefined. */
  findRoom(name: string): Promise<Record<string, any> | undefined>;
  /** Every room on the simulator, all pages, read straight from it. */
  rooms(): Promise<Record<string, any>[]>;
}

/**
 * Starts a simulator on 127.0.0.1 and a free port, with helpers for tests.
 *
 * @example
 * const pexip = await startTestSimulator();
 * const room = await pexip.seedRoom({ tag: 'x' });
 * await pexip.control.faults({ method: 'PATCH', status: 503 });
 * await pexip.close();
 */
export async function startTestSimulator(
  options: SimulatorOptions = {},
): Promise<TestSimulator> {
  const running = await startSimulator({ host: '127.0.0.1', ...options });
  const username = options.username ?? 'admin';
  const password = options.password ?? 'admin';
  const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

  const call = async (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<ApiResponse> => {
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers:
        body === undefined
          ? headers
          : { ...headers, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? undefined : JSON.parse(text),
    };
  };

  const control = async (method: string, path: string, body?: unknown) => {
    const response = await call(method, `/_simulator${path}`, body, {});
    if (response.status >= 300) {
      throw new Error(
        `Simulator control ${method} ${path} answered ${response.status}: ${JSON.stringify(response.body)}`,
      );
    }
    return response.body;
  };

  const api = (method: string, path: string, body?: unknown) =>
    call(method, path, body, { Authorization: authorization });

  const findRoom = async (name: string) => {
    const query = new URLSearchParams({ name });
    const page = await api('GET', `${CONFERENCES}?${query}`);
    return page.body?.objects?.[0];
  };

  const rooms = async () => {
    const found: Record<string, any>[] = [];
    let next: string | null = `${CONFERENCES}?limit=1000`;
    while (next) {
      const page: ApiResponse<{
        objects: Record<string, any>[];
        meta: { next: string | null };
      }> = await api('GET', next);
      found.push(...page.body.objects);
      next = page.body.meta.next;
    }
    return found;
  };

  return {
    ...running,
    username,
    password,
    api,
    findRoom,
    rooms,
    control: {
      faults: async (fault) => void (await control('POST', '/faults', fault)),
      clearFaults: async () => void (await control('DELETE', '/faults')),
      latency: async (ms) => void (await control('PUT', '/latency', { ms })),
      requests: () => control('GET', '/requests'),
      clearRequests: async () => void (await control('DELETE', '/requests')),
      call: async (request) => (await control('POST', '/calls', request)).id,
      reset: async () => void (await control('POST', '/reset')),
    },
    seedRoom: async (room = {}) => {
      const name = room.name ?? `seed-${randomUUID()}`;
      const pin = room.pin ?? digits(6);
      const guestPin = room.guest_pin ?? differentDigits(4, pin);
      const tag = room.tag ?? '';
      const created = await api('POST', CONFERENCES, {
        name,
        service_type: 'conference',
        allow_guests: true,
        pin,
        guest_pin: guestPin,
        tag,
        aliases: [{ alias: name }],
      });
      if (created.status !== 201) {
        throw new Error(
          `Seeding room ${name} answered ${created.status}: ${JSON.stringify(created.body)}`,
        );
      }
      const id = Number(
        /(\d+)\/$/.exec(created.headers.get('location') ?? '')?.[1],
      );
      return {
        id,
        name,
        pin,
        guest_pin: guestPin,
        tag,
        resource_uri: `${CONFERENCES}${id}/`,
      };
    },
  };
}

function digits(length: number): string {
  return Array.from({ length }, () => randomInt(10)).join('');
}

function differentDigits(length: number, other: string): string {
  let value = digits(length);
  while (value === other) value = digits(length);
  return value;
}
