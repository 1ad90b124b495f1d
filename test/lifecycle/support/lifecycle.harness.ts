import { Logger } from '@nestjs/common';
import { __resetOutOfContextForTests } from 'nestjs-pino/PinoLogger';
import { CollectorService } from '../../../src/cleanup/collector.service';
import { MetricsService } from '../../../src/metrics/metrics.service';
import { PoolService } from '../../../src/pool/pool.service';
import { AzureQueueStore } from '../../../src/queue/azure-queue.store';
import {
  DELETION_QUEUE,
  POOL_QUEUE,
  QUEUE_STORE,
  QueueStore,
} from '../../../src/queue/queue.port';
import { AzuriteQueueService, startAzurite } from '../../support/azurite';
import { startService, TestService } from '../../support/service';
import { startTestSimulator, TestSimulator } from '../../support/simulator';

/** Pexip's list of rooms, and the status API's list of live ones. */
export const CONFERENCES = '/api/admin/configuration/v1/conference/';
export const LIVE_CONFERENCES = '/api/admin/status/v1/conference/';

/** The Basic credentials the service expects from Pexip's nodes. */
export const SINK_USERNAME = 'pexip-nodes';
export const SINK_PASSWORD = 'sink-pass-7Hq2';

export type QueueBackendName = 'sqlite' | 'azure';
export const QUEUE_BACKENDS: readonly QueueBackendName[] = ['sqlite', 'azure'];

/** One queue backend for the services of a test file. */
export interface QueueBackend {
  readonly name: QueueBackendName;
  /**
   * Variables that point a service at this backend. SQLite needs none:
   * `startService` gives every service a fresh file of its own.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Empties both queues; Azurite's are shared by every service of a file. */
  clear(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts what a backend needs: nothing for SQLite, a private Azurite for
 * Azure.
 *
 * @example
 * const backend = await startQueueBackend('azure');
 * const rig = await startLifecycleRig(backend);
 */
export async function startQueueBackend(
  name: QueueBackendName,
): Promise<QueueBackend> {
  if (name === 'sqlite') {
    return {
      name,
      env: { QUEUE_BACKEND: 'sqlite' },
      clear: async () => undefined,
      stop: async () => undefined,
    };
  }

  const azurite: AzuriteQueueService = await startAzurite();
  const env = {
    QUEUE_BACKEND: 'azure',
    AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
  };
  return {
    name,
    env,
    async clear() {
      const store = new AzureQueueStore({
        connectionString: azurite.connectionString,
      });
      await store.init();
      await store.clear(POOL_QUEUE);
      await store.clear(DELETION_QUEUE);
      await store.close();
    },
    stop: () => azurite.stop(),
  };
}

/** One HTTP answer of the service, its body parsed when it is JSON. */
export interface Answer<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: T;
}

export interface PoolCounts {
  available: number;
  ripening: number;
  target: number;
  creating: number;
}

export interface CallOptions {
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/** A service on one queue backend, wired to a simulator, with helpers. */
export interface LifecycleRig {
  readonly backend: QueueBackend;
  readonly pexip: TestSimulator;
  readonly service: TestService;
  /** The service's own queue store and background services. */
  readonly queue: QueueStore;
  readonly collector: CollectorService;
  readonly pool: PoolService;
  readonly metrics: MetricsService;
  /** Where Pexip's nodes post events. */
  readonly sinkUrl: string;
  call<T = any>(
    method: string,
    path: string,
    options?: CallOptions,
  ): Promise<Answer<T>>;
  /** POST /public/event_sink with the right credentials unless told. */
  sink(
    body: unknown,
    options?: { authorization?: string | null; rawBody?: string },
  ): Promise<Answer>;
  create(uuiData: string): Promise<Answer>;
  poolCounts(): Promise<PoolCounts>;
  /** Every room on the simulator, read straight from it. */
  pexipRooms(): Promise<Record<string, any>[]>;
  /** Messages waiting on the deletion queue, visible or hidden. */
  deletionBacklog(): Promise<number>;
  close(): Promise<void>;
}

export interface RigOptions {
  /** Overrides of the quiet defaults of `startService`. */
  env?: Record<string, string>;
  /** A simulator shared with other rigs; closed by its owner, not here. */
  pexip?: TestSimulator;
  /** Keep the queues as they are (a second replica joining). */
  keepQueues?: boolean;
}

/**
 * Starts a simulator (unless given one) and the whole service on the given
 * backend, with event-sink credentials set and a generous rate limit.
 */
export async function startLifecycleRig(
  backend: QueueBackend,
  options: RigOptions = {},
): Promise<LifecycleRig> {
  Logger.overrideLogger(false);
  if (!options.keepQueues) await backend.clear();

  // nestjs-pino keeps the first application's logger for work done outside
  // a request (timers, runOnce) in a module-wide variable; without this a
  // later service's background logs land in an earlier service's capture.
  __resetOutOfContextForTests();

  const ownPexip = options.pexip === undefined;
  const pexip = options.pexip ?? (await startTestSimulator());
  let service: TestService;
  try {
    service = await startService({
      PEXIP_URL: pexip.url,
      EVENT_SINK_USERNAME: SINK_USERNAME,
      EVENT_SINK_PASSWORD: SINK_PASSWORD,
      RATE_LIMIT_PER_MINUTE: '100000',
      ...backend.env,
      ...options.env,
    });
  } catch (error) {
    if (ownPexip) await pexip.close();
    throw error;
  }

  const queue = service.app.get<QueueStore>(QUEUE_STORE);
  const call: LifecycleRig['call'] = async (method, path, callOptions = {}) => {
    const hasBody =
      callOptions.body !== undefined || callOptions.rawBody !== undefined;
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: {
        ...(hasBody ? { 'content-type': 'application/json' } : {}),
        ...callOptions.headers,
      },
      body:
        callOptions.rawBody ??
        (hasBody ? JSON.stringify(callOptions.body) : undefined),
    });
    return readAnswer(response);
  };

  const pexipRooms = async () => {
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
  };

  return {
    backend,
    pexip,
    service,
    queue,
    collector: service.app.get(CollectorService),
    pool: service.app.get(PoolService),
    metrics: service.app.get(MetricsService),
    sinkUrl: `${service.url}/public/event_sink`,
    call,
    sink: (body, sinkOptions = {}) => {
      const authorization =
        sinkOptions.authorization === undefined
          ? basic(SINK_USERNAME, SINK_PASSWORD)
          : sinkOptions.authorization;
      return call('POST', '/public/event_sink', {
        body,
        rawBody: sinkOptions.rawBody,
        headers: authorization === null ? {} : { authorization },
      });
    },
    create: (uuiData) =>
      call('POST', `/room/create?uuiData=${encodeURIComponent(uuiData)}`),
    poolCounts: async () => (await call<PoolCounts>('GET', '/room/pool')).body,
    pexipRooms,
    deletionBacklog: async () => {
      const counts = await queue.counts(DELETION_QUEUE);
      return counts.visible + counts.invisible;
    },
    async close() {
      await service.close();
      if (ownPexip) await pexip.close();
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

/** An `Authorization` header value for HTTP Basic. */
export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/**
 * The `uuiData` of an identity check: hex of `<host>&<video_call_id>`.
 *
 * @example uuiFor('id', 'call-1') // '6964…;encoding=hex'
 */
export function uuiFor(host: string, videoCallId: string): string {
  return `${Buffer.from(`${host}&${videoCallId}`).toString('hex')};encoding=hex`;
}

/** The tag a room gets for `uuiFor(host, videoCallId)` by default. */
export function tagFor(host: string, videoCallId: string): string {
  return `https://${host}.gov.bc.ca/idcheck/protected/video/${videoCallId}`;
}

/** A v1 event-sink message as a conferencing node posts it. */
export function sinkEvent(
  event: string,
  data: Record<string, unknown> | unknown[] = {},
  node = '10.0.1.21',
  seq = 1,
): Record<string, unknown> {
  return { node, seq, version: 1, time: Date.now() / 1000, event, data };
}

/** `conference_ended` for a room, as one node reports it. */
export function conferenceEnded(
  name: string,
  node = '10.0.1.21',
  seq = 1,
): Record<string, unknown> {
  const now = Date.now() / 1000;
  return sinkEvent(
    'conference_ended',
    {
      name,
      service_type: 'conference',
      tag: '',
      start_time: now - 60,
      end_time: now,
      is_started: true,
      is_locked: false,
      guests_muted: false,
    },
    node,
    seq,
  );
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

/** Management-API DELETEs of rooms in the simulator's request log. */
export function roomDeletions(
  requests: readonly { method: string; path: string; status: number | null }[],
) {
  return requests.filter(
    (request) =>
      request.method === 'DELETE' && request.path.startsWith(CONFERENCES),
  );
}

/** Prints a measured figure so that the test run shows it. */
export function reportFigure(label: string, value: unknown): void {
  process.stdout.write(`[figure] ${label}: ${JSON.stringify(value)}\n`);
}
