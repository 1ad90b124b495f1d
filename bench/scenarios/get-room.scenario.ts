import {
  BenchContext,
  meets,
  ResultRow,
  ScenarioResult,
} from '../support/bench-context';
import { LoadResult, runLoad, round } from '../support/load-generator';
import { ServiceProcess } from '../support/service-process';
import { cpuMeter } from './create-room.scenario';
import { CONFERENCES } from '../../test/support/pexip-requests';

const TARGET = '≥ 0.8';
const ROOMS = 1_000;

/**
 * GET /room/{name} with a bearer token on every request, against the same
 * GET sent straight to the simulator at the same number of clients: the
 * ratio is the service's throughput over Pexip's. Also measured: the same
 * load with LOG_LEVEL=info, which writes one line per request.
 */
export async function getRoomScenario(
  ctx: BenchContext,
): Promise<ScenarioResult> {
  const { profile, simulator } = ctx;
  const rows: ResultRow[] = [];
  const details: Record<string, unknown> = {};
  const names = await simulator.seedRooms(ROOMS);

  const direct = (clients: number) =>
    runLoad({
      url: simulator.url,
      connections: clients,
      durationSeconds: profile.seconds,
      headers: { Authorization: simulator.authorization },
      path: (n) => `${CONFERENCES}?name=${names[n % names.length]}`,
    });
  // Each connection is a caller with a token of its own, as when several
  // identity servers and operators call; `oneCaller` sends everything
  // under one token instead.
  const throughService = async (
    service: ServiceProcess,
    clients: number,
    oneCaller = false,
  ) => {
    const authorization = oneCaller
      ? () => service.bearer
      : await service.clientBearers(clients);
    await runLoad({
      url: service.url,
      connections: clients,
      durationSeconds: profile.warmUpSeconds,
      headers: { Authorization: service.bearer },
      authorization,
      path: (n) => `/room/${names[n % names.length]}`,
    });
    const cpu = cpuMeter(ctx, service.process);
    const load = await runLoad({
      url: service.url,
      connections: clients,
      durationSeconds: profile.seconds,
      headers: { Authorization: service.bearer },
      authorization,
      path: (n) => `/room/${names[n % names.length]}`,
    });
    assertClean(load, `GET /room with ${clients} clients`);
    return { load, cpu: cpu.stop(load.seconds) };
  };

  const byLevel: Record<string, { load: LoadResult; cpu: unknown }> = {};
  for (const logLevel of ['warn', 'info']) {
    const service = await ctx.startService({
      env: { PEXIP_MAX_CONCURRENCY: '100', LOG_LEVEL: logLevel },
    });
    try {
      const clientCounts = logLevel === 'warn' ? [10, 50] : [10];
      for (const clients of clientCounts) {
        ctx.log(`get room: ${clients} clients, LOG_LEVEL=${logLevel}`);
        const pexip = await direct(clients);
        assertClean(pexip, `direct GET with ${clients} clients`);
        const { load, cpu } = await throughService(service, clients);
        if (logLevel === 'info') {
          byLevel.info = { load, cpu };
          continue;
        }
        const ratio = round(load.rps / pexip.rps, 3);
        rows.push({
          scenario: 'get room (JWT checked)',
          load: `${clients} clients`,
          rps: load.rps,
          p50Ms: load.p50Ms,
          p99Ms: load.p99Ms,
          measured: `${load.rps} req/s`,
          floor: `Pexip ${pexip.rps} req/s`,
          ratio,
          target: TARGET,
          met: meets(ratio, TARGET),
        });
        if (clients === 10) {
          byLevel.warn = { load, cpu };
          const single = await throughService(service, clients, true);
          details.oneCaller10 = single;
          rows.push({
            scenario: 'get room, all under one token',
            load: '10 connections',
            rps: single.load.rps,
            p50Ms: single.load.p50Ms,
            p99Ms: single.load.p99Ms,
            measured: `${single.load.rps} req/s`,
            floor: `Pexip ${pexip.rps} req/s`,
            ratio: round(single.load.rps / pexip.rps, 3),
          });
        }

        details[`clients${clients}`] = { service: load, pexip, cpu };
      }
    } finally {
      await service.stop();
    }
  }

  const warn = byLevel.warn.load;
  const info = byLevel.info.load;
  rows.push({
    scenario: 'get room, LOG_LEVEL=info',
    load: '10 clients',
    rps: info.rps,
    p50Ms: info.p50Ms,
    p99Ms: info.p99Ms,
    measured: `${info.rps} req/s`,
    floor: `warn: ${warn.rps} req/s`,
    ratio: round(info.rps / warn.rps, 3),
  });
  details.logging = byLevel;
  return { name: 'get-room', rows, details };
}

function assertClean(load: LoadResult, what: string): void {
  if (load.errors > 0 || load.non2xx > 0) {
    throw new Error(
      `${what}: ${load.errors} errors, statuses ${JSON.stringify(load.statuses)}`,
    );
  }
}
