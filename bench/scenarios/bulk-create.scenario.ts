import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  BenchContext,
  meets,
  ResultRow,
  ScenarioResult,
} from '../support/bench-context';
import { median, round, runLoad } from '../support/load-generator';
import { poolState, waitForPool } from '../support/pexip-calls';
import { roomName } from '../support/simulator-process';
import { cpuMeter } from './create-room.scenario';
import { CONFERENCES } from '../../test/support/pexip-requests';

const TARGET = '≤ 1.2';
const CONCURRENCY = 10;
/** Memory-backed, so a flush there costs nothing: isolates SQLite's share. */
const RAM_DISK = '/dev/shm';

/**
 * POST /room/bulk-create, timed until GET /room/pool shows every room.
 * Each room is one POST to Pexip and one durable send to the pool queue.
 * The floor is count ÷ PEXIP_MAX_CONCURRENCY × the POST round trip
 * measured in the same run (the same POSTs sent straight to the
 * simulator at the same concurrency). The same bulk create with the
 * SQLite file on a RAM disk shows what the flush per send costs.
 */
export async function bulkCreateScenario(
  ctx: BenchContext,
): Promise<ScenarioResult> {
  const { profile, simulator } = ctx;
  const count = profile.bulkCount;
  const rows: ResultRow[] = [];
  const details: Record<string, unknown> = {};

  await simulator.reset();
  const direct = await runLoad({
    url: simulator.url,
    connections: CONCURRENCY,
    amount: count,
    method: 'POST',
    headers: {
      Authorization: simulator.authorization,
      'Content-Type': 'application/json',
    },
    path: () => CONFERENCES,
    body: () => JSON.stringify(poolLikeBody()),
  });
  if (direct.non2xx > 0 || direct.errors > 0) {
    throw new Error(`direct POSTs: ${JSON.stringify(direct.statuses)}`);
  }
  const postMs = direct.p50Ms;
  const floorMs = round((count / CONCURRENCY) * postMs, 1);

  const ramDir = existsSync(RAM_DISK)
    ? mkdtempSync(join(RAM_DISK, 'maxconf-bench-'))
    : undefined;
  const stores = [
    { store: 'disk', sqlitePath: undefined },
    ...(ramDir
      ? [{ store: 'RAM disk', sqlitePath: join(ramDir, 'q.db') }]
      : []),
  ];
  try {
    for (const { store, sqlitePath } of stores) {
      const times: number[] = [];
      const cpus: unknown[] = [];
      const repeats = profile.name === 'smoke' ? 1 : 3;
      for (let i = 0; i < repeats; i++) {
        const service = await ctx.startService({
          sqlitePath: sqlitePath && `${sqlitePath}.${i}`,
          env: { PEXIP_MAX_CONCURRENCY: String(CONCURRENCY) },
        });
        try {
          // A first, untimed bulk create warms the code up, as in a
          // service that has been running.
          const warm = await poolState(service);
          await service.call('POST', '/room/bulk-create?count=50');
          await waitForPool(
            service,
            warm.available + warm.ripening + 50,
            60_000,
          );
          ctx.log(`bulk create: ${count} rooms, SQLite on ${store}`);
          const before = await poolState(service);
          const cpu = cpuMeter(ctx, service.process);
          const started = performance.now();
          const answer = await service.call(
            'POST',
            `/room/bulk-create?count=${count}`,
          );
          if (answer.status !== 202) {
            throw new Error(`bulk create answered ${answer.status}`);
          }
          // Every 25 ms: the polls cost the service CPU of their own, and
          // the finish is known to within one interval (2% of the floor).
          const doneAt = await waitForPool(
            service,
            before.available + before.ripening + count,
            120_000,
            25,
          );
          const ms = doneAt - started;
          times.push(round(ms, 1));
          cpus.push(cpu.stop(ms / 1000));
        } finally {
          await service.stop();
        }
      }

      const ms = round(median(times), 1);
      const ratio = round(ms / floorMs, 3);
      rows.push({
        scenario: `bulk create (SQLite on ${store})`,
        load: `${count} rooms, ${CONCURRENCY} at a time`,
        measured: `${ms} ms`,
        floor: `${count} ÷ ${CONCURRENCY} × ${postMs} ms`,
        ratio,
        ...(store === 'disk'
          ? { target: TARGET, met: meets(ratio, TARGET) }
          : {}),
      });
      details[store] = { times, cpu: cpus };
    }
  } finally {
    if (ramDir) rmSync(ramDir, { recursive: true, force: true });
  }
  const disk = details.disk as { times: number[] };
  const ram = details['RAM disk'] as { times: number[] } | undefined;
  details.directPexipPost = direct;
  if (ram) {
    const diskMs = median(disk.times);
    details.sqliteFlushShare = round((diskMs - median(ram.times)) / diskMs, 3);
  }
  return { name: 'bulk-create', rows, details };
}

function poolLikeBody() {
  const name = roomName();
  return {
    name,
    service_type: 'conference',
    allow_guests: true,
    pin: '123456',
    guest_pin: '4321',
    tag: '',
    description: '',
    aliases: [{ alias: name }],
  };
}
