import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { __resetOutOfContextForTests } from 'nestjs-pino/PinoLogger';
import { createApp } from '../../src/app.factory';
import { AppConfig, loadConfig } from '../../src/config/app-config';

export interface TestService {
  readonly url: string;
  readonly app: NestExpressApplication;
  readonly config: AppConfig;
  /** Every log line the service wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  /** The raw log text, for searching for leaked secrets. */
  logText(): string;
  close(): Promise<void>;
}

/**
 * Starts the whole service on a free loopback port with a fresh SQLite
 * file, exactly as `main.ts` builds it, and captures its logs.
 *
 * Defaults that keep tests quiet and predictable: no pool top-up
 * (POOL_TARGET_SIZE=0), rooms ripe at once, timers far in the future.
 * Pass any variable to override.
 */
export async function startService(
  env: Record<string, string | undefined>,
): Promise<TestService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'maxconf-test-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    POOL_TARGET_SIZE: '0',
    POOL_RIPEN_SECONDS: '0',
    GC_INTERVAL_SECONDS: '86400',
    POOL_REFILL_INTERVAL_SECONDS: '86400',
    METRICS_LOG_INTERVAL_SECONDS: '0',
    SQLITE_PATH: join(dataDir, 'maxconf.db'),
    ...env,
  });

  let text = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });

  // nestjs-pino keeps the first application's logger in a module-wide
  // variable; without this reset a second service in the same test file
  // would write its background logs into the first one's capture.
  __resetOutOfContextForTests();
  const app = await createApp(config, { logDestination: sink });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    app,
    config,
    get logs() {
      return text
        .split('\n')
        .filter((line) => line.trim().startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logText: () => text,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
