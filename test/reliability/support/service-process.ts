import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './reliability.harness';

/** The repository root, where `src/main.ts` lives. */
const ROOT = resolve(__dirname, '..', '..', '..');

/** How the process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** MaxConf running as its own process, exactly as `main.ts` starts it. */
export interface ServiceProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The SQLite file of its queues (removed when the process exits). */
  readonly sqlitePath: string;
  /** Everything written to standard output so far (JSON log lines). */
  stdout(): string;
  stderr(): string;
  /** Log lines parsed; lines that are not JSON are left out. */
  logs(): Record<string, unknown>[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Resident set size now, in bytes (from /proc), or undefined once gone. */
  rssBytes(): number | undefined;
  /** Sends SIGTERM, waits for the exit; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<Exit>;
}

/**
 * Starts `node -r ts-node/register/transpile-only src/main.ts` on a free
 * loopback port with a fresh SQLite file, and waits until liveness answers.
 * `env` is added to the parent's environment (PEXIP_URL is needed unless
 * the embedded simulator is wanted).
 *
 * @throws Error with the process's output when it exits or does not answer
 *   within `startTimeoutMs`.
 * @example
 * const service = await startServiceProcess({ PEXIP_URL: pexip.url });
 * process.kill(service.pid, 'SIGTERM');
 */
export async function startServiceProcess(
  env: Record<string, string>,
  startTimeoutMs = 60_000,
): Promise<ServiceProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'maxconf-process-'));
  const sqlitePath = join(dataDir, 'maxconf.db');
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'src/main.ts'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
        SQLITE_PATH: sqlitePath,
        RATE_LIMIT_PER_MINUTE: '1000000',
        METRICS_LOG_INTERVAL_SECONDS: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );

  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<Exit>((done) =>
    child.once('exit', (code, signal) => {
      rmSync(dataDir, { recursive: true, force: true });
      done({ code, signal });
    }),
  );

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + startTimeoutMs;
  let finished: Exit | undefined;
  void exited.then((exit) => (finished = exit));
  for (;;) {
    if (finished) {
      throw new Error(
        `MaxConf exited during start-up (${JSON.stringify(finished)}):\n${err}\n${out}`,
      );
    }
    if (await answers(`${url}/public/health`)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `MaxConf did not answer within ${startTimeoutMs} ms:\n${err}\n${out}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url,
    port,
    pid: child.pid as number,
    child,
    sqlitePath,
    stdout: () => out,
    stderr: () => err,
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
    async stop(timeoutMs = 60_000) {
      if (finished) return finished;
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.kill('SIGTERM');
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
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
