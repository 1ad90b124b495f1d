import { SINK_PASSWORD, SINK_USERNAME } from '../../support/event-sink';
import {
  Answer,
  basicHeader,
  CallOptions,
  callService,
} from '../../support/http';
import { startService, TestService } from '../../support/service';
import { startTestSimulator, TestSimulator } from '../../support/simulator';

/** A service wired to its own simulator, with the calls a fault test needs. */
export interface ReliabilityRig {
  readonly pexip: TestSimulator;
  readonly service: TestService;
  /** Where Pexip's nodes post events, with the shared sink credentials. */
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

  const call: ReliabilityRig['call'] = (method, path, options) =>
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
        headers: basicHeader(SINK_USERNAME, SINK_PASSWORD),
      }),
    async close() {
      await service.close();
      if (!pexip) await simulator.close();
    },
  };
}

/** Milliseconds `work` took, with its result. */
export async function timed<T>(
  work: () => Promise<T>,
): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

// Kept for scripts/soak.ts, which still imports these from here; tests
// import them from test/support directly.
export { SINK_PASSWORD, SINK_USERNAME } from '../../support/event-sink';
export { callService } from '../../support/http';
export { uuiFor } from '../../support/uui';

/** Every room on a simulator, all pages. */
export function roomsOn(pexip: TestSimulator): Promise<Record<string, any>[]> {
  return pexip.rooms();
}
