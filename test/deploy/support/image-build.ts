import { ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isIgnored } from './dockerfile-parser';

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
 * Builds the project as the image's build stage does: copies into a fresh
 * folder only the paths the Dockerfile copies from the build context,
 * minus what `.dockerignore` keeps out, and runs `nest build` there (the
 * image's `npm run build`). A source that imports a file the image never
 * receives fails here as it would in `docker build`.
 *
 * The folder is under test-output/, inside the repository, so Node and
 * TypeScript find node_modules from it as they find the image's own.
 *
 * @throws Error with the compiler's output when the build fails.
 */
export async function buildLikeTheImage(
  copiedPaths: readonly string[],
  ignorePatterns: readonly string[],
): Promise<ImageLikeBuild> {
  const outputs = join(REPO_ROOT, 'test-output');
  mkdirSync(outputs, { recursive: true });
  const root = mkdtempSync(join(outputs, 'image-'));
  const remove = () => rmSync(root, { recursive: true, force: true });

  for (const path of copiedPaths) {
    cpSync(join(REPO_ROOT, path), join(root, path), {
      recursive: true,
      filter: (source) =>
        !isIgnored(ignorePatterns, relative(REPO_ROOT, source)),
    });
  }

  const build = spawn(process.execPath, [NEST_CLI, 'build'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { code, output } = await exited(build, BUILD_TIMEOUT_MS);
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
