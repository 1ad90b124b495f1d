import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { LoggedRequest } from '../../simulator';
import { freePort } from '../../test/support/free-port';
import { basic } from '../../test/support/http';
import { CONFERENCES } from '../../test/support/pexip-requests';
import { waitFor } from '../../test/support/wait';
import { NodeProcess, startNodeProcess } from './node-process';

export const PEXIP_USERNAME = 'admin';
export const PEXIP_PASSWORD = 'bench-pexip-password';

/** Most objects one bulk PATCH carries; the simulator reads at most 1 MB. */
const SEED_BATCH = 2_000;

/** The compiled simulator, in its own process, and calls to drive it. */
export interface SimulatorProcess {
  readonly url: string;
  readonly process: NodeProcess;
  /** `Authorization` value of the management API. */
  readonly authorization: string;
  /** The latency it was started with, in ms. */
  readonly latencyMs: number;
  setLatency(ms: number): Promise<void>;
  requests(): Promise<LoggedRequest[]>;
  clearRequests(): Promise<void>;
  reset(): Promise<void>;
  /**
   * Adds `count` rooms shaped like pool rooms straight on the simulator,
   * with bulk PATCHes and no latency, and returns their names.
   */
  seedRooms(count: number): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Starts `node <dist>/simulator/main.js` on a free loopback port with the
 * given latency and waits until its management API answers.
 */
export async function startSimulatorProcess(options: {
  dist: string;
  workDir: string;
  latencyMs: number;
  baseEnv: Record<string, string>;
}): Promise<SimulatorProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = startNodeProcess(
    'simulator',
    join(options.dist, 'simulator', 'main.js'),
    {
      ...options.baseEnv,
      HOST: '127.0.0.1',
      PEXIP_SIMULATOR_PORT: String(port),
      PEXIP_SIMULATOR_LATENCY_MS: String(options.latencyMs),
      PEXIP_USERNAME,
      PEXIP_PASSWORD,
      LOG_LEVEL: 'warn',
    },
    options.workDir,
    join(options.workDir, 'simulator.log'),
  );
  const authorization = basic(PEXIP_USERNAME, PEXIP_PASSWORD);

  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}/_simulator${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(
        `simulator ${method} ${path} answered ${response.status}: ${text}`,
      );
    }
    return text === '' ? undefined : JSON.parse(text);
  };
  await waitUntil(async () => (await control('GET', '/latency')) !== undefined);

  const setLatency = async (ms: number) => {
    await control('PUT', '/latency', { ms });
  };

  return {
    url,
    process: child,
    authorization,
    latencyMs: options.latencyMs,
    setLatency,
    requests: () => control('GET', '/requests'),
    clearRequests: () => control('DELETE', '/requests'),
    reset: () => control('POST', '/reset'),
    async seedRooms(count) {
      const names = Array.from({ length: count }, () => roomName());
      await setLatency(0);
      try {
        for (let at = 0; at < names.length; at += SEED_BATCH) {
          const objects = names.slice(at, at + SEED_BATCH).map(poolLikeRoom);
          const response = await fetch(`${url}${CONFERENCES}`, {
            method: 'PATCH',
            headers: {
              Authorization: authorization,
              'Content-Type': 'application/json',
            },
            body: JSON.stringify({ objects }),
          });
          if (response.status !== 202) {
            throw new Error(
              `seeding rooms answered ${response.status}: ${await response.text()}`,
            );
          }
        }
      } finally {
        await setLatency(options.latencyMs);
      }
      return names;
    },
    stop: () => child.stop(),
  };
}

/** A name like a pool room's: 16 random bytes, base64url. */
export function roomName(): string {
  return randomBytes(16).toString('base64url');
}

function poolLikeRoom(name: string) {
  const pin = String(randomInt(100_000, 1_000_000));
  const guestPin = String(randomInt(1_000, 10_000));
  return {
    name,
    service_type: 'conference',
    allow_guests: true,
    pin,
    guest_pin: guestPin,
    tag: '',
    description: '',
    aliases: [{ alias: name }],
  };
}

/**
 * Polls `check` every 20 ms until it holds; a check that throws counts as
 * not yet (connection refused while a process starts, and the like).
 * @throws Error naming `what` after `timeoutMs`.
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
  what = 'a condition',
): Promise<void> {
  await waitFor(
    () => check().catch(() => false),
    (held) => held,
    what,
    timeoutMs,
    20,
  );
}
