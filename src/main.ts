import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSimulator, RunningSimulator } from '../simulator';
import { createApp } from './app.factory';
import {
  AppConfig,
  ConfigError,
  loadConfig,
  maskedConfig,
} from './config/app-config';
import { ShutdownState } from './health/shutdown-state';
import { POOL_QUEUE, QUEUE_STORE, QueueStore } from './queue/queue.port';
import { callBudgetMs } from './pexip/pexip-retry.policy';

const EXAMPLE_UUI = '6964264d54497a4e4455324c4463324e54517a4d67;encoding=hex';

/**
 * Starts MaxConf: validates the environment, starts the embedded Pexip
 * simulator when no PEXIP_URL is given, listens, and drains gracefully on
 * SIGTERM or SIGINT.
 */
async function bootstrap(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');

  let config: AppConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  let simulator: RunningSimulator | undefined;
  if (!config.pexip.url) {
    simulator = await startSimulator({
      port: 0,
      username: config.pexip.username,
      password: config.pexip.password,
      latencyMs: config.pexip.simulatorLatencyMs,
    });
    config = { ...config, pexip: { ...config.pexip, url: simulator.url } };
  }

  const app = await createApp(config);
  const logger = new Logger('Bootstrap');
  if (simulator) {
    // The embedded simulator starts empty every time, so pool rooms kept
    // in the queue file from an earlier run point at nothing.
    await app.get<QueueStore>(QUEUE_STORE).clear(POOL_QUEUE);
  }
  await app.listen(config.port, config.host);

  logger.log({ config: maskedConfig(config) }, 'effective configuration');
  if (simulator) {
    logger.warn(
      `PEXIP_URL is unset: using the embedded Pexip simulator at ${simulator.url} (development only)`,
    );
  }
  const base = `http://localhost:${config.port}`;
  logger.log(
    `MaxConf listening on ${config.host}:${config.port} — API documentation at ${base}/docs`,
  );
  logger.log(`Try: curl -X POST '${base}/room/create?uuiData=${EXAMPLE_UUI}'`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(
      `${signal} received: readiness now fails; closing in ${config.shutdownGraceMs} ms`,
    );
    app.get(ShutdownState).beginDraining();

    // If requests in flight or background work hang past every Pexip
    // timeout, exit anyway rather than block the orchestrator forever.
    const hardLimit =
      config.shutdownGraceMs + 3 * callBudgetMs(config.pexip.timeoutMs);
    setTimeout(() => {
      logger.error('shutdown took too long; exiting with work unfinished');
      process.exit(1);
    }, hardLimit).unref();

    // Load balancers take a moment to notice readiness; keep serving.
    await sleep(config.shutdownGraceMs);

    // Nest stops listening only after every module's shutdown hooks, which
    // wait for background work (pool rooms being made, a collector run):
    // the port would go on accepting connections all that time. Stop
    // listening now; Nest's own close then waits for the connections still
    // open. Node ends only the keep-alive connections idle at this moment,
    // so the others are ended as soon as their answer has gone out, rather
    // than when the client or the keep-alive timeout lets go.
    const server = app.getHttpServer();
    server.close();
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    await app.close();
    clearInterval(sweep);
    await simulator?.close();
    logger.log('shut down cleanly');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

void bootstrap();
