import {
  BenchContext,
  meets,
  ResultRow,
  ScenarioResult,
} from '../support/bench-context';
import { runLoad, round } from '../support/load-generator';
import { fillPool, observeRoundTrips, tally } from '../support/pexip-calls';
import { CONFERENCES } from '../../test/support/pexip-requests';
import { uuiFor } from '../../test/support/uui';

const TARGETS: Record<number, string> = { 10: '≤ 1.15', 50: '≤ 1.3' };

/**
 * Enough Pexip calls in flight for every client's two parallel look-ups.
 * The default of 10 is a cap for a real management node; with it, 10
 * clients would queue behind each other and the ratio would measure the
 * cap, not the service.
 */
const CREATE_CONCURRENCY = '100';

/**
 * POST /room/create from a full pool, each request with its own uuiData.
 *
 * A create makes two round trips to Pexip in sequence: the tag look-up and
 * the read of the pool room side by side, then the PATCH that tags it.
 * The floor is 2 × the Pexip round trip measured in the same run (a direct
 * GET by name at the same number of clients); the ratio is the service's
 * p50 over that floor.
 */
export async function createRoomScenario(
  ctx: BenchContext,
): Promise<ScenarioResult> {
  const { profile, simulator } = ctx;
  const rows: ResultRow[] = [];
  const details: Record<string, unknown> = {};
  const lookupNames = await simulator.seedRooms(200);
  let runTag = 0;

  for (const clients of [10, 50]) {
    const amount = profile.creates[clients];
    const service = await ctx.startService({
      env: { PEXIP_MAX_CONCURRENCY: CREATE_CONCURRENCY },
    });
    try {
      const rooms = amount + Math.max(clients, profile.createWarmUp) + 1;
      ctx.log(`create: filling the pool with ${rooms} rooms`);
      await fillPool(service, rooms);
      const uui = (n: number) => uuiFor('bench', `b${runTag}x${n}`);
      runTag++;

      const trips =
        clients === 10
          ? await observeRoundTrips(simulator, () =>
              service.call('POST', `/room/create?uuiData=${uui(-1)}`),
            )
          : undefined;

      const direct = await runLoad({
        url: simulator.url,
        connections: clients,
        durationSeconds: profile.seconds / 2,
        headers: { Authorization: simulator.authorization },
        path: (n) =>
          `${CONFERENCES}?name=${lookupNames[n % lookupNames.length]}`,
      });
      const roundTripMs = direct.p50Ms;
      // One caller (token subject) per connection, as in get-room.
      const authorization = await service.clientBearers(clients);

      await runLoad({
        url: service.url,
        connections: clients,
        amount: Math.max(clients, profile.createWarmUp),
        method: 'POST',
        headers: { Authorization: service.bearer },
        authorization,
        path: (n) => `/room/create?uuiData=${uui(1_000_000 + n)}`,
      });

      await simulator.clearRequests();
      const fromPoolBefore = await service.metric(
        'maxconf_rooms_handed_out_total',
        {
          source: 'pool',
        },
      );
      const cpu = cpuMeter(ctx, service.process);
      ctx.log(`create: ${amount} creates from ${clients} clients`);
      const load = await runLoad({
        url: service.url,
        connections: clients,
        amount,
        method: 'POST',
        headers: { Authorization: service.bearer },
        authorization,
        path: (n) => `/room/create?uuiData=${uui(n)}`,
      });
      const cpuShare = cpu.stop(load.seconds);
      const fromPool =
        (await service.metric('maxconf_rooms_handed_out_total', {
          source: 'pool',
        })) - fromPoolBefore;
      const calls = tally(await simulator.requests());

      if (load.errors > 0 || load.non2xx > 0) {
        throw new Error(
          `create with ${clients} clients: ${load.errors} errors, statuses ${JSON.stringify(load.statuses)}`,
        );
      }
      if (fromPool !== load.answered) {
        throw new Error(
          `create with ${clients} clients: only ${fromPool} of ${load.answered} rooms came from the pool`,
        );
      }

      const floorMs = 2 * roundTripMs;
      const ratio = round(load.p50Ms / floorMs, 3);
      const target = TARGETS[clients];
      rows.push({
        scenario: 'create (from pool)',
        load: `${clients} clients`,
        rps: load.rps,
        p50Ms: load.p50Ms,
        p99Ms: load.p99Ms,
        measured: `p50 ${load.p50Ms} ms`,
        floor: `2 × ${roundTripMs} ms`,
        ratio,
        target,
        met: meets(ratio, target),
      });
      details[`clients${clients}`] = {
        creates: load,
        fromPool,
        directPexipGet: direct,
        pexipCallsPerCreate: round(
          Object.values(calls).reduce((a, b) => a + b, 0) / load.answered,
          3,
        ),
        pexipCalls: calls,
        cpu: cpuShare,
        roundTrips: trips && {
          count: trips.waves.length,
          waves: trips.waves,
          calls: trips.calls,
        },
      };
    } finally {
      await service.stop();
    }
  }
  return { name: 'create', rows, details };
}

/**
 * CPU used by the service and the simulator while a load runs, as a share
 * of one core: tells whether a figure is limited by waiting or by work.
 */
export function cpuMeter(
  ctx: BenchContext,
  service: { cpuMs(): number },
): { stop(seconds: number): { servicePct: number; simulatorPct: number } } {
  const serviceBefore = service.cpuMs();
  const simulatorBefore = ctx.simulator.process.cpuMs();
  return {
    stop: (seconds) => ({
      servicePct: round((service.cpuMs() - serviceBefore) / (10 * seconds), 1),
      simulatorPct: round(
        (ctx.simulator.process.cpuMs() - simulatorBefore) / (10 * seconds),
        1,
      ),
    }),
  };
}
