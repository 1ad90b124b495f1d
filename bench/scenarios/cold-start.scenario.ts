import { setTimeout as sleep } from 'node:timers/promises';
import {
  BenchContext,
  meets,
  ResultRow,
  ScenarioResult,
} from '../support/bench-context';
import { median, round } from '../support/load-generator';
import { fillPool } from '../support/pexip-calls';
import { uuiFor } from '../../test/support/uui';

const START_TARGET = '< 1500';
const RSS_TARGET = '< 120';

/**
 * From `node dist/src/main.js` to the first readiness 200 (configuration,
 * Nest modules, SQLite, the JWKS fetch, a Pexip ping), several times; then
 * the resident memory of an instance that has served a few requests and
 * sits idle.
 */
export async function coldStartScenario(
  ctx: BenchContext,
): Promise<ScenarioResult> {
  const starts: number[] = [];
  let idle:
    | {
        rssMbAfter2s: number;
        rssMbSettled: number;
        settledAfterSeconds: number;
        afterRequests: string[];
      }
    | undefined;
  const settleSeconds = ctx.profile.name === 'smoke' ? 3 : 30;

  for (let i = 0; i < ctx.profile.coldStarts; i++) {
    const service = await ctx.startService();
    try {
      starts.push(round(service.readyMs, 1));
      if (i === ctx.profile.coldStarts - 1) {
        const requests = await exercise(ctx, service);
        await sleep(2_000);
        const rssMbAfter2s = round(service.process.rssMb(), 1);
        // V8 gives back the young generation it grew during start-up only
        // after the process has been idle a while.
        await sleep((settleSeconds - 2) * 1000);
        idle = {
          rssMbAfter2s,
          rssMbSettled: round(service.process.rssMb(), 1),
          settledAfterSeconds: settleSeconds,
          afterRequests: requests,
        };
      }
    } finally {
      await service.stop();
    }
  }

  const startMs = round(median(starts), 1);
  const rssMb = idle?.rssMbSettled ?? NaN;
  const rows: ResultRow[] = [
    {
      scenario: 'cold start to ready',
      load: `${starts.length} starts`,
      measured: `median ${startMs} ms, max ${Math.max(...starts)} ms`,
      floor: '—',
      target: `${START_TARGET} ms`,
      met: meets(Math.max(...starts), START_TARGET),
    },
    {
      scenario: 'idle RSS',
      load: 'after a few requests',
      measured: `${rssMb} MB after ${settleSeconds} s idle (${idle?.rssMbAfter2s} MB after 2 s)`,
      floor: '—',
      target: `${RSS_TARGET} MB`,
      met: meets(rssMb, RSS_TARGET),
    },
  ];
  return { name: 'cold-start', rows, details: { startsMs: starts, idle } };
}

/** One of each kind of request an instance serves in its first minutes. */
async function exercise(
  ctx: BenchContext,
  service: Awaited<ReturnType<BenchContext['startService']>>,
): Promise<string[]> {
  await fillPool(service, 5);
  const created = await service.call(
    'POST',
    `/room/create?uuiData=${uuiFor('bench', 'coldstart')}`,
  );
  const name = (created.body as { name: string }).name;
  const calls: [string, string][] = [
    ['GET', `/room/${name}`],
    ['GET', '/room'],
    ['GET', '/room/pool'],
    ['GET', '/public/health'],
    ['GET', '/metrics'],
    ['DELETE', `/room/${name}`],
  ];
  const done = [`POST /room/create → ${created.status}`];
  for (const [method, path] of calls) {
    const { status } = await service.call(method, path);
    done.push(`${method} ${path.replace(name, '{name}')} → ${status}`);
  }
  ctx.log(`cold start: ${done.join(', ')}`);
  return done;
}
