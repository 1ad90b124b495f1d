import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './free-port';
import { waitFor } from './wait';

/** The repository root, where `src/main.ts` lives. */
const ROOT = resolve(__dirname, '..', '..');

/** How the process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** MaxConf running as an operating-system process, as `main.ts` starts it. */
export interface ServiceProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** The SQLite file of its queues. */
  readonly sqlitePath: string;
  /** Everything written to standard output so far (JSON log lines). */
  stdout(): string;
  stderr(): string;
  /** Standard output and error together, in the order they came. */
  output(): string;
  /** Log lines of standard output, parsed; lines that are not JSON are left out. */
  logs(): Record<string, unknown>[];
  /** Resolves once the process has exited and its output is all read. */
  readonly exited: Promise<Exit>;
  /** Resident set size now, in bytes (from /proc), or undefined once gone. */
  rssBytes(): number | undefined;
  /** SIGKILL: no shutdown hook runs, as in a crash or an OOM kill. */
  kill(): Promise<Exit>;
  /** SIGTERM, then waits for the exit; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<Exit>;
}

export interface ServiceProcessOptions {
  /** How long start-up may take before the process is killed. */
  readonly startTimeoutMs?: number;
}

/**
 * Starts `src/main.ts` (ts-node, transpile only) in a child process on a
 * free loopback port and waits until its liveness route answers. The child
 * sees only PATH and the variables below, never the test runner's.
 *
 * Defaults, like `startService`: no pool top-up, rooms ripe at once, timers
 * a day away, no metrics summary, no shutdown grace, a rate limit that
 * never bites, info-level logs, and a fresh SQLite file removed at exit
 * (unless `env` names SQLITE_PATH). `env` overrides any of them; PEXIP_URL
 * should be given, or the embedded simulator starts.
 *
 * @throws Error with the process's output when it exits or does not answer
 *   within `startTimeoutMs` (default 60 s).
 * @example
 * const service = await startServiceProcess({ PEXIP_URL: pexip.url });
 * await service.kill();
 */
export async function startServiceProcess(
  env: Record<string, string>,
  options: ServiceProcessOptions = {},
): Promise<ServiceProcess> {
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const port = await freePort();
  const dataDir =
    env.SQLITE_PATH === undefined
      ? mkdtempSync(join(tmpdir(), 'maxconf-process-'))
      : undefined;
  const sqlitePath = env.SQLITE_PATH ?? join(dataDir as string, 'maxconf.db');
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'src/main.ts'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
        SQLITE_PATH: sqlitePath,
        POOL_TARGET_SIZE: '0',
        POOL_RIPEN_SECONDS: '0',
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

  let out = '';
  let err = '';
  let both = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    both += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    both += chunk.toString();
  });
  // 'close' rather than 'exit': the last lines are read by then.
  let finished: Exit | undefined;
  const exited = new Promise<Exit>((done) =>
    child.once('close', (code, signal) => {
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      finished = { code, signal };
      done(finished);
    }),
  );
  const signal = (name: NodeJS.Signals) => {
    if (!finished) child.kill(name);
    return exited;
  };

  const url = `http://127.0.0.1:${port}`;
  const service: ServiceProcess = {
    url,
    port,
    pid: child.pid as number,
    sqlitePath,
    stdout: () => out,
    stderr: () => err,
    output: () => both,
    logs: () =>
      out
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    exited,
    rssBytes: () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
        return kb === undefined ? undefined : Number(kb) * 1024;
      } catch {
        return undefined;
      }
    },
    kill: () => signal('SIGKILL'),
    async stop(timeoutMs = 10_000) {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const exit = await signal('SIGTERM');
      clearTimeout(timer);
      return exit;
    },
  };

  let state: 'starting' | 'live' | Exit;
  try {
    state = await waitFor(
      async () =>
        finished ??
        ((await answers(`${url}/public/health`)) ? 'live' : 'starting'),
      (seen) => seen !== 'starting',
      'MaxConf to answer /public/health',
      startTimeoutMs,
      100,
    );
  } catch (error) {
    await service.kill();
    throw new Error(`${(error as Error).message}:\n${both}`);
  }
  if (state !== 'live') {
    throw new Error(
      `MaxConf exited during start-up (${JSON.stringify(state)}):\n${both}`,
    );
  }
  return service;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}
