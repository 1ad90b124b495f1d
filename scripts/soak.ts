/**
 * Soak test: MaxConf as its own process against the Pexip simulator, with
 * mixed traffic (creates, reads, updates, deletes, and calls whose end
 * reaches the event sink and the collector) while random faults hit Pexip:
 * 503 and 429 bursts, latency spikes, hangs, resets, 500s after a commit.
 * At the end, with the faults gone, every room still on Pexip must be
 * persistent or in the pool; memory is sampled throughout; the service
 * must neither crash nor report an unhandled rejection, and must exit 0.
 *
 * Everything runs on loopback and stops by itself.
 *
 *   npm run soak -- --minutes 10
 *   npm run soak -- --seconds 60 --seed 7
 */
import { randomInt } from 'node:crypto';
import Database from 'better-sqlite3';
import { POOL_QUEUE, DELETION_QUEUE } from '../src/queue/queue.port';
import { SINK_PASSWORD, SINK_USERNAME } from '../test/support/event-sink';
import { callService } from '../test/support/http';
import {
  ServiceProcess,
  startServiceProcess,
} from '../test/support/service-process';
import { uuiFor } from '../test/support/uui';
import {
  FaultRequest,
  startTestSimulator,
  TestSimulator,
} from '../test/support/simulator';

export interface SoakOptions {
  /** How long traffic and faults run, in milliseconds. */
  durationMs: number;
  /** Seed of the traffic and fault choices, for a run that can be replayed. */
  seed?: number;
  /** Client workers sending requests at once. */
  workers?: number;
  /** Progress lines on standard error while it runs. */
  verbose?: boolean;
}

export interface MemoryFigures {
  samples: number;
  firstMb: number;
  lastMb: number;
  maxMb: number;
  /**
   * Lowest sample between a tenth and half of the run, and in its last
   * third. Garbage collection makes the samples saw up and down; a leak
   * raises the floor they fall back to.
   */
  earlyFloorMb: number;
  lateFloorMb: number;
}

export interface SoakReport {
  durationMs: number;
  seed: number;
  /** API requests the soak's clients sent, by operation. */
  requests: Record<string, number>;
  requestsTotal: number;
  /** Answers by operation and status, e.g. `create 200`. */
  answers: Record<string, number>;
  /** Answers outside what the contract allows for that operation. */
  unexpected: string[];
  /** The service's log lines about each room in `unexpected`. */
  unexpectedContext: Record<string, string[]>;
  /** Simulated calls, and the event-sink posts their nodes made. */
  calls: number;
  sinkPosts: number;
  /** Faults injected into Pexip, by kind. */
  faults: Record<string, number>;
  faultsTotal: number;
  /** Pexip requests the service made, as the simulator logged them. */
  pexipRequests: number;
  /** Rooms left on Pexip at the end, and those accounted for. */
  roomsAtEnd: number;
  persistentRooms: number;
  poolRooms: number;
  leakedRooms: string[];
  /** Persistent rooms that disappeared: must be none. */
  persistentLost: string[];
  rss: MemoryFigures;
  heapUsed: MemoryFigures;
  /** Error lines of the service's log, by message. */
  errorLogs: Record<string, number>;
  stderr: string;
  crashed: boolean;
  exitCode: number | null;
  /** Checks that failed; empty when the soak passed. */
  failures: string[];
}

const PERSISTENT_ROOMS = ['test_soak_fixture', 'vkiosk_soak_kiosk'];
const TIMEOUT_MS = 2_000;
const GC_INTERVAL_SECONDS = 10;
const MAX_HELD_ROOMS = 60;
const MB = 1024 * 1024;

/** What the contract allows each operation to answer while Pexip fails. */
const ALLOWED: Record<string, readonly number[]> = {
  create: [200, 502, 504],
  get: [200, 502, 504],
  patch: [202, 502, 504],
  delete: [204, 502, 504],
};

/**
 * Runs the soak and reports its figures; never throws for a failed check
 * (see `failures`), only when the set-up itself fails.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const seed = options.seed ?? randomInt(2 ** 31);
  const random = seededRandom(seed);
  const workers = options.workers ?? 4;
  const say = (line: string) => {
    if (options.verbose) process.stderr.write(`[soak] ${line}\n`);
  };

  const pexip = await startTestSimulator();
  for (const name of PERSISTENT_ROOMS) await pexip.seedRoom({ name });
  let service: ServiceProcess | undefined;
  try {
    service = await startServiceProcess({
      PEXIP_URL: pexip.url,
      PEXIP_TIMEOUT_MS: String(TIMEOUT_MS),
      PEXIP_MAX_RETRIES: '3',
      POOL_TARGET_SIZE: '10',
      POOL_RIPEN_SECONDS: '2',
      POOL_REFILL_INTERVAL_SECONDS: '5',
      GC_INTERVAL_SECONDS: String(GC_INTERVAL_SECONDS),
      GC_MIN_AGE_SECONDS: '2',
      GC_BATCH_SIZE: '500',
      GC_MAX_ATTEMPTS: '5',
      EVENT_SINK_USERNAME: SINK_USERNAME,
      EVENT_SINK_PASSWORD: SINK_PASSWORD,
      SHUTDOWN_GRACE_MS: '500',
      METRICS_LOG_INTERVAL_SECONDS: '60',
    });
    say(`service pid ${service.pid} at ${service.url}, seed ${seed}`);
    return await soak(service, pexip, {
      ...options,
      seed,
      random,
      workers,
      say,
    });
  } finally {
    await service?.stop(30_000);
    await pexip.close();
  }
}

interface SoakContext extends SoakOptions {
  seed: number;
  random: () => number;
  workers: number;
  say: (line: string) => void;
}

async function soak(
  service: ServiceProcess,
  pexip: TestSimulator,
  context: SoakContext,
): Promise<SoakReport> {
  const { random, say } = context;
  const pick = <T>(items: readonly T[]): T =>
    items[Math.floor(random() * items.length)];
  const started = Date.now();
  const stopAt = started + context.durationMs;

  const requests: Record<string, number> = {};
  const answers: Record<string, number> = {};
  const unexpected: string[] = [];
  const faults: Record<string, number> = {};
  /** Rooms a client holds: handed out, call not yet over. */
  const held = new Map<string, string>();
  /** Rooms whose delete failed: they may or may not exist. */
  const doubtful = new Set<string>();
  /** uuiData whose create never got a 200: a real client would retry. */
  const unanswered = new Set<string>();
  let calls = 0;
  let sinkPosts = 0;
  let callSeq = 0;

  const record = (operation: string, status: number, detail = '') => {
    requests[operation] = (requests[operation] ?? 0) + 1;
    answers[`${operation} ${status}`] =
      (answers[`${operation} ${status}`] ?? 0) + 1;
    if (!ALLOWED[operation]?.includes(status)) {
      unexpected.push(`${operation} ${status} ${detail}`.trim());
    }
  };

  const call = async (method: string, path: string, body?: unknown) => {
    try {
      return await callService(service.url, method, path, { body });
    } catch (error) {
      // No answer at all: the process died or refused the connection.
      return {
        status: 0,
        body: String(error),
        headers: new Headers(),
        text: '',
      };
    }
  };

  /** A create as IDIM makes it: on 502 or 504, the same uuiData again. */
  const create = async (uui: string) => {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const answer = await call(
        'POST',
        `/room/create?uuiData=${encodeURIComponent(uui)}`,
      );
      record('create', answer.status, answer.text.slice(0, 200));
      if (answer.status === 200) {
        unanswered.delete(uui);
        held.set(answer.body.name, uui);
        return;
      }
      await sleep(200 * attempt);
    }
    unanswered.add(uui);
  };

  const endCall = async (name: string, durationMs: number) => {
    const nodes = Array.from(
      { length: 1 + Math.floor(random() * 3) },
      (_, i) => `10.0.${callSeq % 250}.${i + 1}`,
    );
    const response = await fetch(`${pexip.url}/_simulator/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        conference: name,
        duration_ms: durationMs,
        nodes,
        sink_url: `${service.url}/public/event_sink`,
        username: SINK_USERNAME,
        password: SINK_PASSWORD,
      }),
    });
    await response.arrayBuffer();
    return { status: response.status, nodes: nodes.length };
  };

  /**
   * A held room that no other worker is using: one client acts on one room
   * at a time, so a 404 on a held room is the service's fault, never a
   * race between two clients.
   */
  const busy = new Set<string>();
  const useHeld = async (work: (name: string) => Promise<void>) => {
    const name = pick([...held.keys()].filter((n) => !busy.has(n)));
    if (name === undefined) return operations.create();
    busy.add(name);
    try {
      await work(name);
    } finally {
      busy.delete(name);
    }
  };

  const operations: Record<string, () => Promise<void>> = {
    create: () => create(uuiFor('id', `soak-${callSeq++}-${context.seed}`)),
    get: () =>
      useHeld(async (name) => {
        const answer = await call('GET', `/room/${encodeURIComponent(name)}`);
        record('get', answer.status, name);
      }),
    patch: () =>
      useHeld(async (name) => {
        const answer = await call(
          'PATCH',
          `/room/${encodeURIComponent(name)}`,
          { description: `soak ${callSeq++}` },
        );
        record('patch', answer.status, name);
      }),
    delete: () =>
      useHeld(async (name) => {
        held.delete(name);
        const answer = await call(
          'DELETE',
          `/room/${encodeURIComponent(name)}`,
        );
        record('delete', answer.status, name);
        if (answer.status !== 204) doubtful.add(name);
      }),
    end: () =>
      useHeld(async (name) => {
        held.delete(name);
        callSeq++;
        const ended = await endCall(name, 200 + Math.floor(random() * 1_300));
        requests.call = (requests.call ?? 0) + 1;
        if (ended.status !== 202) {
          unexpected.push(`call ${ended.status} ${name}: the room vanished`);
          return;
        }
        calls++;
        sinkPosts += 2 * ended.nodes;
      }),
  };

  const chooseOperation = (): string => {
    if (held.size === 0) return 'create';
    if (held.size >= MAX_HELD_ROOMS) return pick(['end', 'delete', 'get']);
    const roll = random();
    if (roll < 0.35) return 'create';
    if (roll < 0.55) return 'get';
    if (roll < 0.62) return 'patch';
    if (roll < 0.72) return 'delete';
    return 'end';
  };

  const worker = async () => {
    while (Date.now() < stopAt) {
      await operations[chooseOperation()]();
      await sleep(40 + Math.floor(random() * 120));
    }
  };

  const faultKinds: Record<string, () => Promise<void>> = {
    '503 burst': () =>
      pexip.control.faults({
        method: pick([undefined, 'GET', 'POST', 'PATCH', 'DELETE']),
        status: 503,
        times: 1 + Math.floor(random() * 4),
      }),
    '429': () =>
      pexip.control.faults({
        method: pick([undefined, 'GET', 'PATCH', 'DELETE']),
        status: 429,
        times: 1 + Math.floor(random() * 2),
        ...(random() < 0.5 ? { retry_after: pick([0, 1]) } : {}),
      }),
    'latency spike': async () => {
      await pexip.control.latency(300 + Math.floor(random() * 2_500));
      await sleep(1_000 + Math.floor(random() * 3_000));
      await pexip.control.latency(0);
    },
    hang: () =>
      pexip.control.faults({
        method: pick([undefined, 'GET', 'POST', 'PATCH', 'DELETE']),
        hang: true,
        after_commit: random() < 0.5,
        times: 1 + Math.floor(random() * 2),
      }),
    'stall (every request hangs)': () =>
      pexip.control.faults({ hang: true, times: 3 + Math.floor(random() * 4) }),
    '500 after commit': () =>
      pexip.control.faults({
        method: pick(['POST', 'PATCH', 'DELETE']),
        status: 500,
        after_commit: true,
      }),
    reset: () =>
      pexip.control.faults({
        method: pick([undefined, 'GET', 'POST', 'PATCH', 'DELETE']),
        reset: true,
        after_commit: random() < 0.5,
      } satisfies FaultRequest),
  };

  const injector = async () => {
    while (Date.now() < stopAt) {
      await sleep(1_000 + Math.floor(random() * 2_500));
      if (Date.now() >= stopAt) break;
      const kind = pick(Object.keys(faultKinds));
      faults[kind] = (faults[kind] ?? 0) + 1;
      await faultKinds[kind]();
    }
  };

  const rssSamples: number[] = [];
  const heapSamples: number[] = [];
  const sampler = async () => {
    while (Date.now() < stopAt) {
      const rss = service.rssBytes();
      if (rss !== undefined) rssSamples.push(rss);
      const heap = await heapUsedBytes(service.url);
      if (heap !== undefined) heapSamples.push(heap);
      await sleep(Math.min(5_000, context.durationMs / 30));
    }
  };

  const progress = async () => {
    while (Date.now() < stopAt) {
      await sleep(30_000);
      const sent = Object.values(requests).reduce((a, b) => a + b, 0);
      say(
        `${Math.round((Date.now() - started) / 1000)} s: ${sent} requests, ${sumOf(faults)} faults, ${held.size} rooms held, rss ${Math.round((service.rssBytes() ?? 0) / MB)} MB`,
      );
    }
  };

  await Promise.all([
    ...Array.from({ length: context.workers }, worker),
    injector(),
    sampler(),
    progress(),
  ]);
  say('traffic stopped; clearing faults and draining');

  // Quiet: Pexip healthy, clients finish what they started, as a real
  // client would (retry unanswered creates, end every call).
  await pexip.control.clearFaults();
  await pexip.control.latency(0);
  for (const uui of [...unanswered]) await create(uui);
  for (const name of [...held.keys(), ...doubtful]) {
    held.delete(name);
    const ended = await endCall(name, 100);
    if (ended.status === 202) {
      calls++;
      sinkPosts += 2 * ended.nodes;
    }
  }
  const persistent = new Set(PERSISTENT_ROOMS);
  const settled = await waitUntil(
    async () => {
      const rooms = await pexip.rooms();
      const backlog = countQueue(service.sqlitePath, DELETION_QUEUE);
      const tagged = rooms.filter(
        (room) => room.tag !== '' && !persistent.has(room.name),
      );
      return tagged.length === 0 && backlog === 0;
    },
    3 * GC_INTERVAL_SECONDS * 1000 + 30_000,
  );
  say(settled ? 'drained' : 'drain timed out');

  const rooms = await pexip.rooms();
  const poolNames = new Set(queueBodies(service.sqlitePath, POOL_QUEUE));
  const leaked = rooms
    .map((room) => room.name as string)
    .filter((name) => !persistent.has(name) && !poolNames.has(name));
  const present = new Set(rooms.map((room) => room.name as string));
  const persistentLost = PERSISTENT_ROOMS.filter((name) => !present.has(name));
  const pexipRequests = (await pexip.control.requests()).length;

  const alive = await call('GET', '/public/health');
  const crashed = alive.status !== 200;
  const exit = await service.stop(30_000);
  const errorLogs: Record<string, number> = {};
  for (const line of service.logs()) {
    if (typeof line.level === 'number' && line.level >= 50) {
      const message = String(line.msg ?? '');
      errorLogs[message] = (errorLogs[message] ?? 0) + 1;
    }
  }

  // What the service logged about each room that got an unexpected answer.
  const unexpectedContext: Record<string, string[]> = {};
  for (const entry of unexpected) {
    const room = entry.split(' ')[2];
    if (!room || unexpectedContext[room]) continue;
    unexpectedContext[room] = service
      .stdout()
      .split('\n')
      .filter((line) => line.includes(room))
      .slice(0, 30);
  }

  const report: SoakReport = {
    durationMs: context.durationMs,
    seed: context.seed,
    requests,
    requestsTotal: sumOf(requests),
    answers,
    unexpected,
    unexpectedContext,
    calls,
    sinkPosts,
    faults,
    faultsTotal: sumOf(faults),
    pexipRequests,
    roomsAtEnd: rooms.length,
    persistentRooms: PERSISTENT_ROOMS.length - persistentLost.length,
    poolRooms: rooms.filter((room) => poolNames.has(room.name)).length,
    leakedRooms: leaked,
    persistentLost,
    rss: memoryFigures(rssSamples),
    heapUsed: memoryFigures(heapSamples),
    errorLogs,
    stderr: service.stderr(),
    crashed,
    exitCode: exit.code,
    failures: [],
  };
  report.failures = judge(report, settled);
  return report;
}

/** The checks a soak must pass, as sentences naming what went wrong. */
function judge(report: SoakReport, settled: boolean): string[] {
  const failures: string[] = [];
  if (!settled) failures.push('the deletion queue did not drain in time');
  if (report.leakedRooms.length > 0) {
    failures.push(`${report.leakedRooms.length} room(s) leaked`);
  }
  if (report.persistentLost.length > 0) {
    failures.push(`persistent rooms deleted: ${report.persistentLost}`);
  }
  if (report.unexpected.length > 0) {
    failures.push(`${report.unexpected.length} unexpected answer(s)`);
  }
  if (report.crashed) failures.push('the service stopped answering');
  if (report.exitCode !== 0) {
    failures.push(`the service exited with ${report.exitCode}`);
  }
  if (/unhandled|uncaught/i.test(report.stderr)) {
    failures.push('the service reported an unhandled error');
  }
  if (!isFlat(report.rss)) {
    failures.push(
      `resident memory climbed: its floor went from ${report.rss.earlyFloorMb} MB to ${report.rss.lateFloorMb} MB`,
    );
  }
  return failures;
}

/**
 * Flat: the floor of the last third is within a quarter (plus 16 MB of
 * allocator noise) of the floor after start-up.
 */
export function isFlat(memory: MemoryFigures): boolean {
  return memory.lateFloorMb <= 1.25 * memory.earlyFloorMb + 16;
}

function memoryFigures(samples: number[]): MemoryFigures {
  const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;
  const floor = (from: number, to: number) => {
    const part = samples.slice(
      Math.floor(samples.length * from),
      Math.max(Math.ceil(samples.length * to), 1),
    );
    return mb(Math.min(...part));
  };
  if (samples.length === 0) {
    return {
      samples: 0,
      firstMb: 0,
      lastMb: 0,
      maxMb: 0,
      earlyFloorMb: 0,
      lateFloorMb: 0,
    };
  }
  return {
    samples: samples.length,
    firstMb: mb(samples[0]),
    lastMb: mb(samples[samples.length - 1]),
    maxMb: mb(Math.max(...samples)),
    earlyFloorMb: floor(0.1, 0.5),
    lateFloorMb: floor(2 / 3, 1),
  };
}

async function heapUsedBytes(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${url}/metrics`, {
      signal: AbortSignal.timeout(2_000),
    });
    const text = await response.text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('maxconf_nodejs_heap_size_used_bytes '));
    return line ? Number(line.split(' ')[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Message bodies of one queue, read straight from the service's file. */
function queueBodies(sqlitePath: string, queue: string): string[] {
  const db = new Database(sqlitePath, { readonly: true, fileMustExist: true });
  try {
    return (
      db
        .prepare('SELECT body FROM queue_message WHERE queue = ?')
        .all(queue) as { body: string }[]
    ).map((row) => row.body);
  } finally {
    db.close();
  }
}

function countQueue(sqlitePath: string, queue: string): number {
  return queueBodies(sqlitePath, queue).length;
}

async function waitUntil(
  done: () => Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await done()) return true;
    await sleep(500);
  }
  return done();
}

function sumOf(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** mulberry32: small, fast, and the same sequence for the same seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function parseArguments(argv: string[]): SoakOptions {
  let durationMs = 10 * 60_000;
  let seed: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const value = Number(argv[i + 1]);
    if (argv[i] === '--minutes') durationMs = value * 60_000;
    else if (argv[i] === '--seconds') durationMs = value * 1000;
    else if (argv[i] === '--seed') seed = value;
    else continue;
    if (!Number.isFinite(value) || value <= 0) {
      throw new Error(`${argv[i]} needs a positive number`);
    }
    i++;
  }
  if (durationMs > 24 * 3_600_000) {
    throw new Error('a soak is limited to 24 hours');
  }
  return { durationMs, seed, verbose: true };
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  const report = await runSoak(options);
  const { stderr, ...figures } = report;
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  if (stderr.trim() !== '') {
    process.stderr.write(`service stderr:\n${stderr}\n`);
  }
  if (report.failures.length > 0) {
    process.stderr.write(`SOAK FAILED: ${report.failures.join('; ')}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write('soak passed\n');
  }
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  });
}
