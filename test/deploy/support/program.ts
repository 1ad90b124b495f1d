import { ChildProcess, spawn } from 'node:child_process';

/** A program started as a container would start it, with its output. */
export interface RunningProgram {
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves once the output matches; rejects when the program exits. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** Sends a signal and resolves to the exit code (null if killed). */
  stop(signal: NodeJS.Signals, timeoutMs: number): Promise<number | null>;
}

/**
 * Starts an exec-form command (`["node", "dist/src/main.js"]`) with exactly
 * the environment given: nothing leaks in from the test runner, the way a
 * container sees only its image's and its deployment's variables. `node`
 * is the Node running the tests.
 *
 * @example
 * const service = startProgram(['node', 'dist/src/main.js'], root, env);
 * await service.waitForOutput(/listening/, 20_000);
 */
export function startProgram(
  command: readonly string[],
  cwd: string,
  env: Record<string, string>,
): RunningProgram {
  const [program, ...args] = command;
  const child = spawn(program === 'node' ? process.execPath : program, args, {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    text += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  return {
    child,
    output: () => text,
    waitForOutput(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const done = (error?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const check = () => {
          if (pattern.test(text)) done();
        };
        const timer = setTimeout(
          () =>
            done(new Error(`no ${pattern} within ${timeoutMs} ms:\n${text}`)),
          timeoutMs,
        );
        listeners.add(check);
        void exit.then((code) =>
          done(new Error(`exited with ${code} before ${pattern}:\n${text}`)),
        );
        check();
      });
    },
    async stop(signal, timeoutMs) {
      if (child.exitCode !== null || child.signalCode !== null) {
        return child.exitCode;
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.kill(signal);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}
