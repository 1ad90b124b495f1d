import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The service running as a real operating-system process. */
export interface ServiceProcess {
  readonly url: string;
  readonly pid: number;
  /** Everything it wrote to standard output and error so far. */
  output(): string;
  /** SIGKILL: no shutdown hook runs, as in a crash or an OOM kill. */
  kill(): Promise<void>;
  /** SIGTERM, then waits for the exit; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

const REPO_ROOT = join(__dirname, '..', '..', '..');
const START_TIMEOUT_MS = 40_000;

/**
 * Starts `src/main.ts` in a child process (ts-node, transpile only) on a
 * free loopback port, and waits until its liveness route answers.
 *
 * @param env variables on top of a quiet test set-up (no pool top-up,
 *   timers far away, no shutdown grace); PEXIP_URL should be given.
 * @throws Error with the process output when it exits or never answers.
 * @example
 * const service = await spawnService({ PEXIP_URL: pexip.url });
 * await service.kill();
 */
export async function spawnService(
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'src/main.ts'],
    {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        PORT: String(port),
        POOL_TARGET_SIZE: '0',
        GC_INTERVAL_SECONDS: '86400',
        POOL_REFILL_INTERVAL_SECONDS: '86400',
        METRICS_LOG_INTERVAL_SECONDS: '0',
        SHUTDOWN_GRACE_MS: '0',
        RATE_LIMIT_PER_MINUTE: '1000000',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const url = `http://127.0.0.1:${port}`;
  const service: ServiceProcess = {
    url,
    pid: child.pid ?? -1,
    output: () => output,
    kill: () => signal(child, 'SIGKILL'),
    async stop(timeoutMs = 10_000) {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await signal(child, 'SIGTERM');
      clearTimeout(timer);
    },
  };

  try {
    await waitUntilLive(url, child, () => output);
  } catch (error) {
    await service.kill();
    throw error;
  }
  return service;
}

function signal(child: ChildProcess, name: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  const exited = once(child, 'exit').then(() => undefined);
  child.kill(name);
  return exited;
}

async function waitUntilLive(
  url: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`The service exited while starting:\n${output()}`);
    }
    try {
      const response = await fetch(`${url}/public/health`);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new Error(
        `The service did not answer within ${START_TIMEOUT_MS} ms:\n${output()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A port nobody listens on right now. The service must be told its port
 * before it starts (it prints none it picked itself), so a small window
 * remains in which another process could take it.
 */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}
