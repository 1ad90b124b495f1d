import { simulatorOptionsFromEnv } from './simulator.env';
import { simulatorLogger } from './simulator.logger';
import { startSimulator } from './simulator.server';

/**
 * Standalone entry point (`npm run simulator`): a Pexip management node
 * simulator configured from the environment, stopped by SIGTERM or SIGINT.
 */
async function main(): Promise<void> {
  const options = simulatorOptionsFromEnv(process.env);
  const simulator = await startSimulator(options);
  simulatorLogger.info(
    {
      url: simulator.url,
      oauth: Boolean(options.oauthClients?.length),
      latencyMs: options.latencyMs,
    },
    `Pexip simulator listening on ${simulator.url}`,
  );

  const stop = (signal: NodeJS.Signals) => {
    simulatorLogger.info({ signal }, 'Pexip simulator stopping');
    void simulator.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  simulatorLogger.fatal({ err: error }, 'Pexip simulator failed to start');
  process.exit(1);
});
