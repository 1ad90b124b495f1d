import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/support/free-port';
import { Answer, basic, callService } from '../../test/support/http';
import type { JwksServer } from '../../test/support/jwks-server';
import { metricValue } from '../../test/support/prometheus';
import { NodeProcess, startNodeProcess } from './node-process';
import {
  PEXIP_PASSWORD,
  PEXIP_USERNAME,
  SimulatorProcess,
  waitUntil,
} from './simulator-process';

export const EVENT_SINK_USERNAME = 'pexip-bench';

/** The compiled service, in its own process, pointed at the simulator. */
export interface ServiceProcess {
  readonly url: string;
  readonly process: NodeProcess;
  /** From spawn to the first readiness 200, in ms. */
  readonly readyMs: number;
  /** `Authorization` header value with a valid bearer token. */
  readonly bearer: string;
  /**
   * `Authorization` of the n-th request when each of `clients` callers
   * (distinct token subjects) sends every `clients`-th request.
   */
  clientBearers(clients: number): Promise<(n: number) => string>;
  /** `Authorization` header value of the event sink. */
  readonly eventSinkAuthorization: string;
  /** The SQLite file of its queues. */
  readonly sqlitePath: string;
  /** A call with the bearer token; a body is sent as JSON. */
  call(method: string, path: string, body?: unknown): Promise<Answer>;
  /**
   * Value of one Prometheus sample, 0 when absent.
   * @example await service.metric('maxconf_rooms_handed_out_total', { source: 'pool' })
   */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  dist: string;
  workDir: string;
  simulator: SimulatorProcess;
  issuer: JwksServer;
  baseEnv: Record<string, string>;
  /** Overrides of the benchmark's defaults. */
  env?: Record<string, string>;
  /** Reuse this SQLite file (a restart); default: a new one. */
  sqlitePath?: string;
  /** Options for node itself, e.g. `--cpu-prof` to find where time goes. */
  nodeArgs?: readonly string[];
}

/**
 * Starts `node <dist>/src/main.js` as production would run it (JWT auth,
 * SQLite queues, warn-level logs) and waits for readiness. Defaults keep
 * background work out of the way of what is measured: no pool top-up,
 * rooms ripe at once, the collector's timer a day away; a scenario
 * overrides what it measures.
 */
export async function startServiceProcess(
  options: ServiceOptions,
): Promise<ServiceProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(options.workDir, 'service-'));
  const sqlitePath = options.sqlitePath ?? join(dataDir, 'maxconf.db');
  const sinkPassword = randomBytes(12).toString('hex');

  const env: Record<string, string> = {
    ...options.baseEnv,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    PEXIP_URL: options.simulator.url,
    PEXIP_USERNAME,
    PEXIP_PASSWORD,
    QUEUE_BACKEND: 'sqlite',
    SQLITE_PATH: sqlitePath,
    AUTH_MODE: 'jwt',
    AUTH_JWKS_URL: options.issuer.url,
    AUTH_ISSUER: options.issuer.issuer,
    AUTH_AUDIENCE: options.issuer.audience,
    EVENT_SINK_USERNAME,
    EVENT_SINK_PASSWORD: sinkPassword,
    // The load comes from one address with one token: the per-client
    // limit would otherwise be what is measured.
    RATE_LIMIT_PER_MINUTE: '1000000',
    POOL_TARGET_SIZE: '0',
    POOL_RIPEN_SECONDS: '0',
    GC_INTERVAL_SECONDS: '86400',
    METRICS_LOG_INTERVAL_SECONDS: '0',
    SHUTDOWN_GRACE_MS: '0',
    ...options.env,
  };
  const child = startNodeProcess(
    'service',
    join(options.dist, 'src', 'main.js'),
    env,
    dataDir,
    join(dataDir, 'service.log'),
    options.nodeArgs,
  );

  let readyMs = NaN;
  try {
    await waitUntil(
      async () => {
        const response = await fetch(`${url}/public/health/ready`);
        await response.arrayBuffer();
        if (response.status !== 200) return false;
        readyMs = performance.now() - child.spawnedAt;
        return true;
      },
      30_000,
      'the service to be ready',
    );
  } catch (error) {
    await child.stop();
    const log = child.logLines().slice(-20).join('\n');
    throw new Error(`${(error as Error).message}; its last output:\n${log}`);
  }

  const bearer = `Bearer ${await options.issuer.signToken({ roles: [] })}`;
  const call = (method: string, path: string, body?: unknown) =>
    callService(url, method, path, {
      body,
      headers: { authorization: bearer },
    });

  return {
    url,
    process: child,
    readyMs,
    bearer,
    async clientBearers(clients) {
      const tokens = await Promise.all(
        Array.from(
          { length: clients },
          async (_, i) =>
            `Bearer ${await options.issuer.signToken({ sub: `bench-client-${i + 1}`, roles: [] })}`,
        ),
      );
      return (n) => tokens[n % clients];
    },
    eventSinkAuthorization: basic(EVENT_SINK_USERNAME, sinkPassword),
    sqlitePath,
    call,
    async metric(name, labels) {
      const { text } = await call('GET', '/metrics');
      return metricValue(text, name, labels) ?? 0;
    },
    stop: () => child.stop(),
  };
}
