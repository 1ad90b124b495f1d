import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/app-config';
import { openQueueStore } from '../../../src/queue/queue.module';
import {
  DELETION_QUEUE,
  POOL_QUEUE,
  QueueStore,
} from '../../../src/queue/queue.port';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue.store';
import type { SeededRoom } from '../../support/simulator';
import { startTestSimulator, TestSimulator } from '../../support/simulator';
import {
  QueueBackend,
  QueueBackendName,
  startQueueBackend,
} from './lifecycle.harness';
import { basic } from '../../support/http';
import {
  ServiceProcess,
  startServiceProcess,
} from '../../support/service-process';
import {
  conferenceEnded,
  SINK_PASSWORD,
  SINK_USERNAME,
} from '../../support/event-sink';
import { roomDeletions } from '../../support/pexip-requests';
import { reportFigure } from '../../support/figures';
import { waitFor } from '../../support/wait';

/**
 * Nothing queued may be lost when the service dies. The service runs here
 * as a real process that is killed with SIGKILL (no shutdown hook runs)
 * while it works, then started again on the same queues.
 */

const FEEDERS = 4;
const ACCEPTED_BEFORE_KILL = 200;
const ROOMS_TO_COLLECT = 240;
const GC_BATCH = 60;

/**
 * The durability specification, declared inside a `describe` of the
 * caller's, for the named queue backend.
 *
 * @example describe('durability on sqlite', () => durabilitySuite('sqlite'));
 */
export function durabilitySuite(name: QueueBackendName): void {
  let backend: QueueBackend;
  let pexip: TestSimulator;
  let dataDir: string;
  let env: Record<string, string>;
  let store: QueueStore;
  const running = new Set<ServiceProcess>();

  beforeAll(async () => {
    // The test's own store would log to the console; the service's logs
    // are in its process output.
    Logger.overrideLogger(false);
    backend = await startQueueBackend(name);
    await backend.clear();
    pexip = await startTestSimulator();
    dataDir = mkdtempSync(join(tmpdir(), 'maxconf-durability-'));
    env = {
      ...backend.env,
      SQLITE_PATH: join(dataDir, 'maxconf.db'),
      PEXIP_URL: pexip.url,
      EVENT_SINK_USERNAME: SINK_USERNAME,
      EVENT_SINK_PASSWORD: SINK_PASSWORD,
    };
    store = await openQueueStore(loadConfig({ NODE_ENV: 'test', ...env }));
  });

  afterAll(async () => {
    for (const service of running) await service.kill();
    await store?.close();
    await pexip?.close();
    await backend?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async (extra: Record<string, string> = {}) => {
    // Warnings only: an info access line for each of the feeders' posts
    // would fill the captured output.
    const service = await startServiceProcess({
      LOG_LEVEL: 'warn',
      ...env,
      ...extra,
    });
    running.add(service);
    return service;
  };
  const kill = async (service: ServiceProcess) => {
    await service.kill();
    running.delete(service);
  };

  it('keeps every conference_ended that got a 200 when killed mid-stream', async () => {
    const sinkEnv = { GC_MIN_AGE_SECONDS: '1' };
    const first = await start(sinkEnv);
    const accepted: string[] = [];
    let sent = 0;
    let stopped = false;

    // Pexip's nodes post one event at a time each; four nodes here.
    const feed = async (node: number) => {
      for (let i = 0; !stopped; i++) {
        const room = `crash-${node}-${i}`;
        sent++;
        try {
          const response = await fetch(`${first.url}/public/event_sink`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: basic(SINK_USERNAME, SINK_PASSWORD),
            },
            body: JSON.stringify(conferenceEnded(room, `10.0.1.${node}`, i)),
          });
          await response.arrayBuffer();
          if (response.status === 200) accepted.push(room);
        } catch {
          return; // the process is gone
        }
      }
    };
    const feeders = Array.from({ length: FEEDERS }, (_, node) => feed(node));
    await waitFor(
      async () => accepted.length,
      (count) => count >= ACCEPTED_BEFORE_KILL,
      `${ACCEPTED_BEFORE_KILL} accepted events`,
      30_000,
    );
    await kill(first);
    const killedAt = Date.now();
    stopped = true;
    await Promise.all(feeders);

    const second = await start(sinkEnv);
    const after = await fetch(`${second.url}/public/event_sink`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: basic(SINK_USERNAME, SINK_PASSWORD),
      },
      body: JSON.stringify(conferenceEnded('after-restart')),
    });
    expect(after.status).toBe(200);

    // Every message sent before the kill is visible a second later; Azure
    // keeps whole seconds, so allow one more.
    const found = new Set<string>();
    await waitFor(
      async () => {
        for (;;) {
          const batch = await store.receive(DELETION_QUEUE, 32, 300);
          if (batch.length === 0) return found.size;
          batch.forEach((message) => found.add(message.text));
        }
      },
      () => Date.now() > killedAt + 2_500 && found.has('after-restart'),
      'the queued ends to become visible',
    );
    const missing = accepted.filter((room) => !found.has(room));
    reportFigure(`crash while the event sink is fed (${name})`, {
      posted: sent,
      accepted: accepted.length,
      foundAfterRestart: found.size - 1,
      missing: missing.length,
    });
    expect(missing).toEqual([]);
    await kill(second);
  });

  it('leaves no pool room on Pexip that the pool queue does not know when killed mid bulk create', async () => {
    await store.clear(POOL_QUEUE);
    await pexip.control.reset();
    // Each create is slow, so many are in flight when the kill comes; the
    // short timeout keeps the time a new entry stays hidden to seconds.
    await pexip.control.latency(150);
    const poolEnv = {
      PEXIP_TIMEOUT_MS: '1000',
      PEXIP_MAX_CONCURRENCY: '8',
      POOL_RIPEN_SECONDS: '0',
    };

    const first = await start(poolEnv);
    await fetch(`${first.url}/room/bulk-create?count=200`, { method: 'POST' });
    await waitFor(
      async () => (await pexipRoomNames(pexip)).length,
      (count) => count >= 20,
      'the bulk create to be under way',
    );
    await kill(first);
    await pexip.control.latency(0);

    // Entries of creates cut short come into view once the longest create
    // would have ended: 4 call budgets of 1.5 s plus 5 s, so 11 s.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    const queued = new Set<string>();
    for (;;) {
      const batch = await store.receive(POOL_QUEUE, 32, 300);
      if (batch.length === 0) break;
      batch.forEach((message) => queued.add(message.text));
    }
    const onPexip = await pexipRoomNames(pexip);
    reportFigure(`crash during a bulk create (${name})`, {
      roomsOnPexip: onPexip.length,
      poolEntries: queued.size,
      entriesWithoutRoom: [...queued].filter((n) => !onPexip.includes(n))
        .length,
    });
    expect(onPexip.filter((room) => !queued.has(room))).toEqual([]);
    await store.clear(POOL_QUEUE);
  });

  it('loses no deletion when killed during a collector run', async () => {
    await store.clear(DELETION_QUEUE);
    await pexip.control.reset();
    const rooms = await seedRooms(pexip, ROOMS_TO_COLLECT);
    await sendAll(
      store,
      rooms.map((room) => room.name),
    );
    const collectorEnv = {
      GC_MIN_AGE_SECONDS: '0',
      GC_INTERVAL_SECONDS: '1',
      GC_BATCH_SIZE: String(GC_BATCH),
      PEXIP_MAX_CONCURRENCY: '4',
    };
    // Slow enough that a run is still deleting when the kill comes.
    await pexip.control.latency(50);

    const first = await start(collectorEnv);
    await waitFor(
      () => pexip.control.requests(),
      (requests) =>
        roomDeletions(requests).filter((r) => r.status === 204).length >= 20,
      'the first run to be deleting',
    );
    await kill(first);
    await pexip.control.latency(0);
    const deletedBeforeKill = new Set(
      roomDeletions(await pexip.control.requests()).map((r) => r.path),
    ).size;

    const second = await start(collectorEnv);
    // The restarted collector takes every message it can see; the ones the
    // killed run held come back only when their lease ends. A graceful
    // stop lets the run in progress finish.
    await waitFor(
      () => store.counts(DELETION_QUEUE),
      (counts) => counts.visible === 0,
      'the restarted collector to take every visible message',
      30_000,
    );
    await second.stop();
    running.delete(second);

    // The queue is read before Pexip: a room deleted in between would
    // otherwise look unaccounted for.
    const backlog = await store.counts(DELETION_QUEUE);
    const waiting = await namesAfterLease(name, store, env.SQLITE_PATH);
    const left = (await pexipRoomNames(pexip)).sort();
    reportFigure(`crash during a collector run (${name})`, {
      rooms: ROOMS_TO_COLLECT,
      deletedBeforeKill,
      deletedAfterRestart: ROOMS_TO_COLLECT - deletedBeforeKill - left.length,
      leftOnPexip: left.length,
      messagesStillQueued: backlog.visible + backlog.invisible,
    });
    expect(backlog.visible).toBe(0);
    expect(backlog.invisible).toBeGreaterThanOrEqual(left.length);
    expect(backlog.invisible).toBeLessThanOrEqual(GC_BATCH);
    if (waiting) {
      expect(left.filter((room) => !waiting.has(room))).toEqual([]);
    }
    expect(left.length).toBeLessThan(ROOMS_TO_COLLECT - deletedBeforeKill);
  });
}

/**
 * The names on the deletion queue once every lease has run out, taken with
 * a store whose clock runs an hour ahead. Only the SQLite store allows
 * that; for Azure, undefined.
 */
async function namesAfterLease(
  backend: QueueBackendName,
  store: QueueStore,
  sqlitePath: string,
): Promise<Set<string> | undefined> {
  if (backend !== 'sqlite') return undefined;
  const later = new SqliteQueueStore({
    path: sqlitePath,
    now: () => Date.now() + 3_600_000,
  });
  await later.init();
  const names = new Set<string>();
  try {
    const counts = await later.counts(DELETION_QUEUE);
    const messages = await later.receive(
      DELETION_QUEUE,
      Math.max(1, counts.visible),
      60,
    );
    messages.forEach((message) => names.add(message.text));
  } finally {
    await later.close();
  }
  return names;
}

async function seedRooms(
  pexip: TestSimulator,
  count: number,
): Promise<SeededRoom[]> {
  const rooms: SeededRoom[] = [];
  for (let start = 0; start < count; start += 25) {
    const batch = Array.from({ length: Math.min(25, count - start) }, () =>
      pexip.seedRoom(),
    );
    rooms.push(...(await Promise.all(batch)));
  }
  return rooms;
}

async function sendAll(store: QueueStore, names: string[]): Promise<void> {
  for (let start = 0; start < names.length; start += 20) {
    await Promise.all(
      names
        .slice(start, start + 20)
        .map((room) => store.send(DELETION_QUEUE, room)),
    );
  }
}

async function pexipRoomNames(pexip: TestSimulator): Promise<string[]> {
  return (await pexip.rooms()).map((room) => room.name as string);
}
