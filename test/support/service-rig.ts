import { SINK_PASSWORD, SINK_USERNAME } from './event-sink';
import { Answer, basic, CallOptions, callService } from './http';
import { startService, TestService } from './service';
import { startTestSimulator, TestSimulator } from './simulator';

/** The counts of GET /room/pool. */
export interface PoolState {
  available: number;
  ripening: number;
  target: number;
  creating: number;
}

export interface SinkOptions {
  /** The `Authorization` header; null sends none. Default: the right one. */
  authorization?: string | null;
  /** Sent instead of the JSON of `body`. */
  rawBody?: string;
}

/** The whole service wired to a simulator, with the calls tests make. */
export interface ServiceRig {
  readonly pexip: TestSimulator;
  readonly service: TestService;
  /** Where Pexip's nodes post events. */
  readonly sinkUrl: string;
  /** Calls the service with `fetch`; a body is sent as JSON. */
  call<T = any>(
    method: string,
    path: string,
    options?: CallOptions,
  ): Promise<Answer<T>>;
  /** POST /room/create with this uuiData, URL-encoded. */
  create(uuiData: string): Promise<Answer>;
  /** POST /public/event_sink with the right credentials unless told. */
  sink(body: unknown, options?: SinkOptions): Promise<Answer>;
  /** GET /room/pool. */
  poolState(): Promise<PoolState>;
  /** Closes the service, and the simulator unless it was given. */
  close(): Promise<void>;
}

/**
 * Starts a simulator (unless given one) and the whole service pointed at
 * it, with the event-sink credentials of `test/support/event-sink` and a
 * rate limit that never bites. `env` overrides those and the quiet
 * defaults of `startService`.
 *
 * @param pexip a simulator shared with other rigs; its owner closes it.
 * @example
 * const rig = await startServiceRig({ PEXIP_TIMEOUT_MS: '1000' });
 * const answer = await rig.create(EXAMPLE_UUI);
 */
export async function startServiceRig(
  env: Record<string, string> = {},
  pexip?: TestSimulator,
): Promise<ServiceRig> {
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

  const call: ServiceRig['call'] = (method, path, options) =>
    callService(service.url, method, path, options);

  return {
    pexip: simulator,
    service,
    sinkUrl: `${service.url}/public/event_sink`,
    call,
    create: (uuiData) =>
      call('POST', `/room/create?uuiData=${encodeURIComponent(uuiData)}`),
    sink: (body, options = {}) => {
      const authorization =
        options.authorization === undefined
          ? basic(SINK_USERNAME, SINK_PASSWORD)
          : options.authorization;
      return call('POST', '/public/event_sink', {
        body,
        rawBody: options.rawBody,
        headers: authorization === null ? {} : { authorization },
      });
    },
    poolState: async () => (await call<PoolState>('GET', '/room/pool')).body,
    async close() {
      await service.close();
      if (!pexip) await simulator.close();
    },
  };
}
