import { ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running Azurite queue service, private to one test file. */
export interface AzuriteQueueService {
  /** Connection string for `QueueServiceClient.fromConnectionString`. */
  readonly connectionString: string;
  /** Stops the service; safe to call twice. */
  stop(): Promise<void>;
}

// Azurite's published development account: not a secret, it works against
// any local Azurite and nothing else.
const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const AZURITE_QUEUE_MAIN = require.resolve('azurite/dist/src/queue/main.js');
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * Starts the Azurite queue service from node_modules on a free loopback
 * port, in memory, with telemetry off, and waits until it answers.
 *
 * @throws Error with Azurite's output when it exits or stays silent.
 * @example
 * const azurite = await startAzurite();
 * const { connectionString } = azurite;
 * await azurite.stop();
 */
export async function startAzurite(): Promise<AzuriteQueueService> {
  // In-memory persistence writes nothing, but Azurite still wants a
  // workspace folder (the current directory): give it a throwaway one.
  const workspace = await mkdtemp(join(tmpdir(), 'azurite-'));
  const child = spawn(
    process.execPath,
    [
      AZURITE_QUEUE_MAIN,
      '--queueHost',
      '127.0.0.1',
      // Port 0: the system picks a free port and Azurite prints it, so there
      // is no window in which another process can take it.
      '--queuePort',
      '0',
      '--inMemoryPersistence',
      '--extentMemoryLimit',
      '64',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--silent',
    ],
    { cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'] },
  );

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= stopProcess(child).finally(() =>
      rm(workspace, { recursive: true, force: true }),
    );
    return stopped;
  };

  try {
    const port = await listeningPort(child);
    await waitUntilAnswering(port);
    return {
      connectionString:
        'DefaultEndpointsProtocol=http;' +
        `AccountName=${ACCOUNT};AccountKey=${ACCOUNT_KEY};` +
        `QueueEndpoint=http://127.0.0.1:${port}/${ACCOUNT};`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const fail = (reason: string) => {
      clearTimeout(timer);
      reject(new Error(`Azurite did not start: ${reason}\n${output}`));
    };
    const timer = setTimeout(
      () => fail(`no answer within ${START_TIMEOUT_MS} ms`),
      START_TIMEOUT_MS,
    );

    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /successfully listens on https?:\/\/[^\s]+:(\d+)/.exec(
        output,
      );
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code, signal) =>
      fail(`exited with ${signal ?? `code ${code}`}`),
    );
  });
}

async function waitUntilAnswering(port: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      await httpStatus(port);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Any HTTP answer (even 403 for an unsigned request) means it is up. */
function httpStatus(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: `/${ACCOUNT}?comp=list`,
        timeout: 1_000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end();
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }

  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
