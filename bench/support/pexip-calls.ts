import { setTimeout as sleep } from 'node:timers/promises';
import type { LoggedRequest } from '../../simulator';
import { ServiceProcess } from './service-process';
import { SimulatorProcess } from './simulator-process';

const API_PREFIX = /^\/api\/admin\/(configuration|status)\/v1\//;
const KEPT_QUERY = new Set(['limit', 'offset']);

/**
 * A logged Pexip call in a form fit for a report: the resource path without
 * the API prefix and query values other than paging replaced by "…".
 *
 * @example describeCall({ method: 'GET', path: '/api/admin/configuration/v1/conference/?name=x', status: 200 }) // 'GET conference/?name=…'
 */
export function describeCall(request: LoggedRequest): string {
  const [path, query] = request.path.split('?');
  const shortPath = path
    .replace(API_PREFIX, (_, api: string) =>
      api === 'status' ? 'status/' : '',
    )
    .replace(/\/\d+\//, '/:id/');
  if (!query) return `${request.method} ${shortPath}`;
  const params = new URLSearchParams(query);
  const shown = [...params.keys()].map((key) =>
    KEPT_QUERY.has(key) ? `${key}=${params.get(key)}` : `${key}=…`,
  );
  return `${request.method} ${shortPath}?${shown.join('&')}`;
}

/** Calls counted by their description, e.g. `{ 'DELETE conference/:id/': 2000 }`. */
export function tally(
  requests: readonly LoggedRequest[],
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const request of requests) {
    const key = describeCall(request);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * Sends one request to the service while the simulator answers slowly, and
 * watches the simulator's request log: each distinct set of Pexip calls in
 * flight at once is one round trip the caller waits for in sequence.
 *
 * @returns the waves of calls, in order, and every call made.
 */
export async function observeRoundTrips(
  simulator: SimulatorProcess,
  send: () => Promise<unknown>,
  slowLatencyMs = 250,
): Promise<{ waves: string[][]; calls: string[] }> {
  await simulator.setLatency(slowLatencyMs);
  await simulator.clearRequests();
  const waves: string[][] = [];
  try {
    let done = false;
    const request = send().finally(() => {
      done = true;
    });
    let previous = '';
    while (!done) {
      const inFlight = (await simulator.requests())
        .filter((r) => r.status === null)
        .map(describeCall);
      const key = inFlight.join(' + ');
      if (inFlight.length > 0 && key !== previous) waves.push(inFlight);
      previous = key;
      await sleep(slowLatencyMs / 10);
    }
    await request;
  } finally {
    await simulator.setLatency(simulator.latencyMs);
  }
  const calls = (await simulator.requests()).map(describeCall);
  return { waves, calls };
}

/**
 * Fills the pool through the service's own bulk create, 500 at a time,
 * and waits until `count` rooms are available.
 */
export async function fillPool(
  service: ServiceProcess,
  count: number,
): Promise<void> {
  for (let left = count; left > 0; left -= 500) {
    const step = Math.min(500, left);
    const before = await poolState(service);
    const answer = await service.call(
      'POST',
      `/room/bulk-create?count=${step}`,
    );
    if (answer.status !== 202) {
      throw new Error(`bulk create answered ${answer.status}`);
    }
    const wanted = before.available + before.ripening + step;
    await waitForPool(service, wanted, 120_000);
  }
}

export interface PoolState {
  available: number;
  ripening: number;
  target: number;
  creating: number;
}

export async function poolState(service: ServiceProcess): Promise<PoolState> {
  const answer = await service.call('GET', '/room/pool');
  if (answer.status !== 200) {
    throw new Error(`GET /room/pool answered ${answer.status}`);
  }
  return answer.body as PoolState;
}

/**
 * Polls GET /room/pool every `everyMs` until `rooms` are in it and none is
 * being made.
 *
 * @returns the time of the poll that saw it, from `performance.now()`.
 * @throws when the bulk create stopped short (a room failed) or timed out.
 */
export async function waitForPool(
  service: ServiceProcess,
  rooms: number,
  timeoutMs: number,
  everyMs = 10,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await poolState(service);
    const seenAt = performance.now();
    const pooled = state.available + state.ripening;
    if (pooled >= rooms && state.creating === 0) return seenAt;
    if (state.creating === 0 && pooled < rooms) {
      // Nothing is being made, yet the rooms are not all there: the
      // answer may still be on its way, or a create failed.
      await sleep(200);
      const again = await poolState(service);
      if (again.creating === 0 && again.available + again.ripening < rooms) {
        throw new Error(
          `bulk create stopped at ${again.available + again.ripening} of ${rooms} rooms`,
        );
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`pool did not reach ${rooms} rooms in ${timeoutMs} ms`);
    }
    await sleep(everyMs);
  }
}
