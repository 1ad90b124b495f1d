import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..', '..');

const NEST_CLI = require.resolve('@nestjs/cli/bin/nest.js');
const BUILD_TIMEOUT_MS = 150_000;

/** A compiled copy of the project, laid out like the image's WORKDIR. */
export interface ImageLikeBuild {
  /** Plays the image's `/app`: `dist/` sits right under it. */
  readonly root: string;
  remove(): void;
}

/**
 * Compiles the project as the image's `npm run build` does (`nest build`
 * with tsconfig.build.json), into a fresh folder under test-output/ so the
 * developer's own dist/ is left alone. The folder is inside the repository
 * so Node finds node_modules from it, as it does in the image's /app.
 *
 * @throws Error with the compiler's output when the build fails.
 */
export async function buildLikeTheImage(): Promise<ImageLikeBuild> {
  const outputs = join(REPO_ROOT, 'test-output');
  mkdirSync(outputs, { recursive: true });
  const root = mkdtempSync(join(outputs, 'image-'));

  // Same options as tsconfig.build.json, only the output moved; no
  // incremental state, so nothing is shared with a developer's build.
  const tsconfig = join(root, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: relative(root, join(REPO_ROOT, 'tsconfig.build.json')),
      compilerOptions: {
        outDir: './dist',
        incremental: false,
        tsBuildInfoFile: null,
      },
    }),
  );

  const build = spawn(
    process.execPath,
    [NEST_CLI, 'build', '-p', relative(REPO_ROOT, tsconfig)],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const { code, output } = await exited(build, BUILD_TIMEOUT_MS);
  const remove = () => rmSync(root, { recursive: true, force: true });
  if (code !== 0) {
    remove();
    throw new Error(`nest build failed (exit ${code}):\n${output}`);
  }
  return { root, remove };
}

/** Waits for a child process to end; kills it after `timeoutMs`. */
export function exited(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ code: number | null; signal: string | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

/**
 * A port nobody listens on right now. A program configured through the
 * environment cannot be told "port 0" and report back, so the test picks
 * the port; another process could take it in between, which on loopback
 * of a test machine does not happen in practice.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error('no TCP address');
  }
  return address.port;
}
