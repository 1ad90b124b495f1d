import { createServer } from 'node:net';
import { request as httpRequest } from 'node:http';
import type { LoggedRequest } from '../../../simulator';
import { startService, TestService } from '../../support/service';
import { startTestSimulator, TestSimulator } from '../../support/simulator';

/** Pexip's list of rooms; every room request the service makes goes here. */
export const CONFERENCES = '/api/admin/configuration/v1/conference/';

/** The Basic credentials the service expects from Pexip's nodes. */
export const SINK_USERNAME = 'pexip-nodes';
export const SINK_PASSWORD = 'sink-pass-R3l1';

/** One HTTP answer of the service, its body parsed when it is JSON. */
export interface Answer<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: T;
}

export interface CallOptions {
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/** A service wired to its own simulator, with the calls a fault test needs. */
export interface ReliabilityRig {
  readonly pexip: TestSimulator;
  readonly service: TestService;
  /** Where Pexip's nodes post events, with the credentials above. */
  readonly sinkUrl: string;
  call<T = any>(
    method: string,
    path: string,
    options?: CallOptions,
  ): Promise<Answer<T>>;
  /** POST /room/create with this uuiData, URL-encoded. */
  create(uuiData: string): Promise<Answer>;
  /** POST /public/event_sink with the right credentials. */
  sink(body: unknown): Promise<Answer>;
  /** Every room on the simulator, read straight from it. */
  pexipRooms(): Promise<Record<string, any>[]>;
  close(): Promise<void>;
}

/**
 * Starts a simulator (unless given one) and the whole service pointed at
 * it, with event-sink credentials and a rate limit that never bites.
 * `env` overrides the quiet defaults of `startService`.
 *
 * @example
 * const rig = await startReliabilityRig({ PEXIP_TIMEOUT_MS: '1000' });
 */
export async function startReliabilityRig(
  env: Record<string, string> = {},
  pexip?: TestSimulator,
): Promise<ReliabilityRig> {
  const simulator = pexip ?? (await startTestSimulator());
  let service: TestService;
  try {
    service = await startService({
      PEXIP_URL: simulator.url,
      EVENT_SINK_USERNAME: SINK_USERNAME,
      EVENT_SINK_PASSWORD: SINK_PASSWORD,
      RATE_LIMIT_PER_MINUTE: '1000000',
      ...env,
    });
  } catch (error) {
    if (!pexip) await simulator.close();
    throw error;
  }

  const call: ReliabilityRig['call'] = (method, path, options = {}) =>
    callService(service.url, method, path, options);

  return {
    pexip: simulator,
    service,
    sinkUrl: `${service.url}/public/event_sink`,
    call,
    create: (uuiData) =>
      call('POST', `/room/create?uuiData=${encodeURIComponent(uuiData)}`),
    sink: (body) =>
      call('POST', '/public/event_sink', {
        body,
        headers: { authorization: basic(SINK_USERNAME, SINK_PASSWORD) },
      }),
    pexipRooms: () => roomsOn(simulator),
    async close() {
      await service.close();
      if (!pexip) await simulator.close();
    },
  };
}

/** Calls a service at `baseUrl`; a body is sent as JSON. */
export async function callService<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer<T>> {
  const hasBody = options.body !== undefined || options.rawBody !== undefined;
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body:
      options.rawBody ?? (hasBody ? JSON.stringify(options.body) : undefined),
  });
  return readAnswer(response);
}

/** Every room on a simulator, read straight from it, all pages. */
export async function roomsOn(
  pexip: TestSimulator,
): Promise<Record<string, any>[]> {
  const rooms: Record<string, any>[] = [];
  let next: string | null = `${CONFERENCES}?limit=1000`;
  while (next) {
    const page: {
      body: { objects: Record<string, any>[]; meta: { next: string | null } };
    } = await pexip.api('GET', next);
    rooms.push(...page.body.objects);
    next = page.body.meta.next;
  }
  return rooms;
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

/** What a raw HTTP exchange answered; `body` is parsed when it is JSON. */
export interface RawAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  readonly body: any;
}

/**
 * Sends a request with the path exactly as given: `fetch` and `URL`
 * normalise paths (`/room/..` becomes `/`, `%2F` may be decoded), which
 * would hide what a hostile client can send.
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string> } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: hostname,
        port,
        method,
        path,
        headers: {
          ...(options.body === undefined
            ? {}
            : {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(options.body),
              }),
          ...options.headers,
        },
        agent: false,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          const contentType = response.headers['content-type'] ?? '';
          resolve({
            status: response.statusCode ?? 0,
            contentType,
            text,
            body:
              /json/.test(contentType) && text !== ''
                ? JSON.parse(text)
                : undefined,
          });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/** An `Authorization` header value for HTTP Basic. */
export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** The `uuiData` of an identity check: hex of `<host>&<video_call_id>`. */
export function uuiFor(host: string, videoCallId: string): string {
  return `${Buffer.from(`${host}&${videoCallId}`).toString('hex')};encoding=hex`;
}

/** The tag a room gets for `uuiFor(host, videoCallId)` by default. */
export function tagFor(host: string, videoCallId: string): string {
  return `https://${host}.gov.bc.ca/idcheck/protected/video/${videoCallId}`;
}

/** `conference_ended` for a room, as one conferencing node posts it. */
export function conferenceEnded(name: string): Record<string, unknown> {
  const now = Date.now() / 1000;
  return {
    node: '10.0.1.21',
    seq: 1,
    version: 1,
    time: now,
    event: 'conference_ended',
    data: {
      name,
      service_type: 'conference',
      tag: '',
      start_time: now - 60,
      end_time: now,
      is_started: true,
    },
  };
}

/** Requests that change something on Pexip. */
export function writesOf(requests: readonly LoggedRequest[]): LoggedRequest[] {
  return requests.filter((request) => request.method !== 'GET');
}

/** Milliseconds `work` took, with its result. */
export async function timed<T>(
  work: () => Promise<T>,
): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

/**
 * Reads until `until` holds, polling; fails naming `what` and the last
 * value after `timeoutMs`.
 */
export async function waitFor<T>(
  read: () => Promise<T>,
  until: (value: T) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (until(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A loopback port that was free a moment ago, for a server that must come
 * up later on a known address (Pexip returning after an outage).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Prints a measured figure so that the test run shows it. */
export function reportFigure(label: string, value: unknown): void {
  process.stdout.write(`[figure] ${label}: ${JSON.stringify(value)}\n`);
}
