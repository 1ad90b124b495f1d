import {
  BenchContext,
  ResultRow,
  ScenarioResult,
} from '../support/bench-context';
import { round } from '../support/load-generator';
import { describeCall } from '../support/pexip-calls';
import { waitUntil } from '../support/simulator-process';

/** Conference-ended events per bulk event-sink post. */
const EVENTS_PER_POST = 100;

/**
 * One collector run over a full deletion queue. The queue is filled the way
 * Pexip fills it, through the event sink of a first service instance; a
 * second instance on the same SQLite file, with a one-second collector
 * interval, then runs the collector on its own timer. The simulator's
 * request log shows every Pexip call of that run, and the run's own log
 * line its duration.
 */
export async function collectorScenario(
  ctx: BenchContext,
): Promise<ScenarioResult> {
  const { profile, simulator } = ctx;
  const rooms = profile.collectorRooms;
  const queued = profile.collectorQueued;
  const concurrency = 10;

  await simulator.reset();
  const names = await simulator.seedRooms(rooms);
  const ended = names.slice(0, queued);

  const collectorEnv = {
    GC_BATCH_SIZE: String(queued),
    GC_MIN_AGE_SECONDS: '0',
    PEXIP_MAX_CONCURRENCY: String(concurrency),
  };
  const sink = await ctx.startService({ env: collectorEnv });
  const sqlitePath = sink.sqlitePath;
  ctx.log(`collector: queueing ${queued} ended rooms through the event sink`);
  try {
    for (let at = 0; at < ended.length; at += EVENTS_PER_POST) {
      const response = await fetch(`${sink.url}/public/event_sink`, {
        method: 'POST',
        headers: {
          Authorization: sink.eventSinkAuthorization,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify(
          bulkEnded(ended.slice(at, at + EVENTS_PER_POST), at),
        ),
      });
      await response.arrayBuffer();
      if (response.status !== 200) {
        throw new Error(`event sink answered ${response.status}`);
      }
    }
    const backlog = await sink.metric('maxconf_deletion_backlog');
    if (backlog !== queued) {
      throw new Error(`deletion backlog is ${backlog}, expected ${queued}`);
    }
  } finally {
    await sink.stop();
  }

  ctx.log(`collector: one run over ${queued} messages and ${rooms} rooms`);
  await simulator.clearRequests();
  const collector = await ctx.startService({
    sqlitePath,
    env: { ...collectorEnv, GC_INTERVAL_SECONDS: '1', LOG_LEVEL: 'info' },
  });
  let run: CollectorRunLog;
  try {
    let found: CollectorRunLog | undefined;
    await waitUntil(
      async () => {
        found = collector.process
          .logLines()
          .map(parseJson)
          .find(
            (line): line is CollectorRunLog =>
              line?.msg === 'collector run finished',
          );
        return found !== undefined;
      },
      120_000,
      'the collector run',
    );
    run = found as CollectorRunLog;
  } finally {
    await collector.stop();
  }

  const calls = await simulator.requests();
  const kinds = {
    listPages: 0,
    statusPages: 0,
    deletions: 0,
    probes: 0,
    other: 0,
  };
  const others: string[] = [];
  for (const call of calls) {
    const what = describeCall(call);
    if (what === 'GET conference/?limit=1') kinds.probes++;
    else if (what.startsWith('GET conference/?limit=')) kinds.listPages++;
    else if (what.startsWith('GET status/conference/')) kinds.statusPages++;
    else if (what === 'DELETE conference/:id/') kinds.deletions++;
    else {
      kinds.other++;
      others.push(what);
    }
  }
  const expectedPages = Math.max(1, Math.ceil(rooms / 1000));
  const onlyListsAndDeletes =
    kinds.listPages === expectedPages &&
    kinds.statusPages === 1 &&
    kinds.deletions === queued &&
    kinds.other === 0;
  if (run.received !== queued || run.deleted !== queued) {
    throw new Error(
      `collector run received ${run.received} and deleted ${run.deleted}, expected ${queued}`,
    );
  }

  // The list pages and the status list are read side by side; the
  // deletions then go at PEXIP_MAX_CONCURRENCY.
  const floorMs =
    expectedPages * ctx.latencyMs + (queued / concurrency) * ctx.latencyMs;
  const rows: ResultRow[] = [
    {
      scenario: 'collector run',
      load: `${queued.toLocaleString('en')} queued, ${rooms.toLocaleString('en')} rooms`,
      measured: `${run.ms} ms; Pexip calls: ${kinds.listPages} pages + ${kinds.statusPages} status + ${kinds.deletions} deletes${kinds.other ? ` + ${kinds.other} other` : ''}`,
      floor: `${floorMs} ms (pages × L + deletes ÷ ${concurrency} × L)`,
      ratio: round(run.ms / floorMs, 3),
      target: 'calls = pages + status + deletes',
      met: onlyListsAndDeletes,
    },
  ];
  return {
    name: 'collector',
    rows,
    details: {
      run,
      pexipCalls: kinds,
      otherCalls: others,
      readinessProbesNote:
        'probes are the benchmark waiting for readiness, not the collector',
    },
  };
}

interface CollectorRunLog {
  msg: string;
  received: number;
  deleted: number;
  dropped: number;
  deferred: number;
  failed: number;
  rooms: number;
  ms: number;
}

function bulkEnded(names: string[], seqStart: number) {
  const now = Date.now() / 1000;
  return {
    node: '10.0.0.1',
    seq: seqStart,
    version: 1,
    time: now,
    event: 'eventsink_bulk',
    data: names.map((name, i) => ({
      node: '10.0.0.1',
      seq: seqStart + i + 1,
      version: 1,
      time: now,
      event: 'conference_ended',
      data: { name, service_type: 'conference', end_time: now },
    })),
  };
}

function parseJson(line: string): any {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
