import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * A Node program started by the benchmark in a process of its own, so that
 * it never shares an event loop with the load generator, with what it
 * reads from /proc about itself.
 */
export interface NodeProcess {
  readonly name: string;
  readonly pid: number;
  /** `performance.now()` just before the process was spawned. */
  readonly spawnedAt: number;
  /** Where its standard output and error go. */
  readonly logFile: string;
  /** Resident memory now, in MB. */
  rssMb(): number;
  /** Highest resident memory since start or since `resetPeakRss()`, MB. */
  peakRssMb(): number;
  /**
   * Makes the kernel forget the peak so far (Linux `clear_refs`).
   * @returns false where the kernel does not allow it.
   */
  resetPeakRss(): boolean;
  /** CPU time used so far (user + system), in milliseconds. */
  cpuMs(): number;
  /** Its output so far, line by line. */
  logLines(): string[];
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has ended. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let clockTicks: number | undefined;

// A benchmark stopped by an error or Ctrl-C must not leave a service or a
// simulator behind, holding ports and CPU.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(130));
}

/**
 * Starts `node [nodeArgs] <script>` with exactly `env` (nothing inherited
 * but what the caller passes), output to `logFile`.
 *
 * @example const sim = startNodeProcess('simulator', 'dist/simulator/main.js', env, cwd, log);
 */
export function startNodeProcess(
  name: string,
  script: string,
  env: Record<string, string>,
  cwd: string,
  logFile: string,
  nodeArgs: readonly string[] = [],
): NodeProcess {
  const out = openSync(logFile, 'a');
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd,
    env,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  running.add(child);
  if (child.pid === undefined) {
    throw new Error(`${name} could not be started (${script})`);
  }
  const pid = child.pid;

  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    });
  });
  const status = (field: string) => {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) / 1024 : NaN;
  };

  return {
    name,
    pid,
    spawnedAt,
    logFile,
    exited,
    rssMb: () => status('VmRSS'),
    peakRssMb: () => status('VmHWM'),
    resetPeakRss: () => {
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
        return true;
      } catch {
        return false;
      }
    },
    cpuMs: () => {
      // Fields 14 and 15 of /proc/<pid>/stat, counted after the command
      // name, which may itself contain spaces.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      return (ticks * 1000) / ticksPerSecond();
    },
    logLines: () =>
      readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((line) => line.length > 0),
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString());
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}
