import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { simulatorOptionsFromEnv } from '../../simulator/simulator.env';
import { loadConfig } from '../../src/config/app-config';
import { AzuriteQueueService, startAzurite } from '../support/azurite';
import { startTestSimulator, TestSimulator } from '../support/simulator';
import { unknownEnvNames } from './support/env-names';
import { exited, REPO_ROOT } from './support/image-build';

// No Docker engine runs in CI: these tests read docker-compose.yml, check
// that its pieces fit together, and run its health checks against the
// same programs started on loopback.

interface ComposeService {
  build?: string;
  image?: string;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  read_only?: boolean;
  cap_drop?: string[];
}

const compose = parse(
  readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'),
) as { services: Record<string, ComposeService> };
const { maxconf, simulator, azurite } = compose.services;

/** `127.0.0.1:3000:3000` → the published host address, host and container ports. */
const published = (service: ComposeService) =>
  (service.ports ?? []).map((mapping) => {
    const [address, host, container] = mapping.split(':');
    return { address, host: Number(host), container: Number(container) };
  });

const azuriteArgument = (flag: string) =>
  azurite.command![azurite.command!.indexOf(flag) + 1];

/** Runs a compose health check's `CMD node -e …` the way Docker would. */
async function runHealthcheck(
  service: ComposeService,
  env: Record<string, string>,
  rewrite: (script: string) => string = (script) => script,
): Promise<number | null> {
  const [kind, program, flag, script] = service.healthcheck!.test;
  expect([kind, program, flag]).toEqual(['CMD', 'node', '-e']);
  const check = spawn(process.execPath, ['-e', rewrite(script)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return (await exited(check, 15_000)).code;
}

describe('docker-compose.yml', () => {
  it('runs the service, the Pexip simulator and Azurite', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'azurite',
      'maxconf',
      'simulator',
    ]);
  });

  it('publishes each port on loopback only, at the port each program listens on', () => {
    expect(published(maxconf)).toEqual([
      { address: '127.0.0.1', host: 3000, container: 3000 },
    ]);
    expect(published(simulator)).toEqual([
      { address: '127.0.0.1', host: 8080, container: 8080 },
    ]);
    expect(published(azurite)).toEqual([
      { address: '127.0.0.1', host: 10001, container: 10001 },
    ]);
    expect(Number(maxconf.environment!.PORT)).toBe(3000);
    expect(Number(simulator.environment!.PEXIP_SIMULATOR_PORT)).toBe(8080);
    expect(Number(azuriteArgument('--queuePort'))).toBe(10001);
  });

  it('sets for the service only variables the configuration schema knows', () => {
    expect(unknownEnvNames(Object.keys(maxconf.environment!))).toEqual([]);
  });

  it('gives the service a configuration that passes start-up validation: Azure queues, the simulator, no auth outside production', () => {
    const config = loadConfig(maxconf.environment!);

    expect(config.nodeEnv).toBe('development');
    expect(config.auth.mode).toBe('none');
    expect(config.queue.backend).toBe('azure');
    expect(config.pexip.url).toBe(
      `http://simulator:${simulator.environment!.PEXIP_SIMULATOR_PORT}`,
    );
    expect(config.queue.azureConnectionString).toContain(
      `QueueEndpoint=http://azurite:${azuriteArgument('--queuePort')}/devstoreaccount1;`,
    );
    expect(config.pexip.username).toBe(simulator.environment!.PEXIP_USERNAME);
    expect(config.pexip.password).toBe(simulator.environment!.PEXIP_PASSWORD);
  });

  it('runs the simulator from the same image, with settings the simulator accepts', () => {
    expect(simulator.image).toBe(maxconf.image);
    expect(simulator.build).toBe(maxconf.build);
    expect(simulator.command).toEqual(['node', 'dist/simulator/main.js']);
    expect(simulatorOptionsFromEnv(simulator.environment!)).toMatchObject({
      port: 8080,
      username: 'admin',
      password: 'admin',
    });
  });

  it('starts the service only once the simulator and Azurite report healthy', () => {
    expect(maxconf.depends_on).toEqual({
      simulator: { condition: 'service_healthy' },
      azurite: { condition: 'service_healthy' },
    });
    expect(simulator.healthcheck?.test).toBeDefined();
    expect(azurite.healthcheck?.test).toBeDefined();
  });

  it('runs Azurite for queues only, with the version the tests use, telemetry off and tolerant of newer SDKs', () => {
    const { version } = JSON.parse(
      readFileSync(require.resolve('azurite/package.json'), 'utf8'),
    ) as { version: string };

    expect(azurite.image).toBe(
      `mcr.microsoft.com/azure-storage/azurite:${version}`,
    );
    expect(azurite.command![0]).toBe('azurite-queue');
    expect(azurite.command).toEqual(
      expect.arrayContaining([
        '--disableTelemetry',
        '--skipApiVersionCheck',
        '--loose',
      ]),
    );
    expect(azuriteArgument('--queueHost')).toBe('0.0.0.0');
  });

  it('passes Azurite only options its queue service knows', async () => {
    const help = spawn(
      process.execPath,
      [require.resolve('azurite/dist/src/queue/main.js'), '--help'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const { output } = await exited(help, 15_000);
    const flags = azurite.command!.filter((part) => part.startsWith('--'));

    expect(flags.length).toBeGreaterThan(0);
    expect(flags.filter((flag) => !output.includes(`${flag} `))).toEqual([]);
  });

  it('runs the service and the simulator with a read-only root and no capabilities', () => {
    for (const service of [maxconf, simulator]) {
      expect(service.read_only).toBe(true);
      expect(service.cap_drop).toEqual(['ALL']);
    }
  });
});

describe('docker-compose.yml health checks, run against the real programs', () => {
  let pexip: TestSimulator;
  let queues: AzuriteQueueService;

  beforeAll(async () => {
    pexip = await startTestSimulator();
    queues = await startAzurite();
  }, 60_000);

  afterAll(async () => {
    await pexip?.close();
    await queues?.stop();
  });

  it('reports the simulator healthy when it answers on its port, and unhealthy when nothing does', async () => {
    const port = new URL(pexip.url).port;

    expect(
      await runHealthcheck(simulator, { PEXIP_SIMULATOR_PORT: port }),
    ).toBe(0);
    expect(await runHealthcheck(simulator, { PEXIP_SIMULATOR_PORT: '1' })).toBe(
      1,
    );
  });

  it('reports Azurite healthy when its queue port accepts connections, and unhealthy when not', async () => {
    const port = /QueueEndpoint=http:\/\/127\.0\.0\.1:(\d+)\//.exec(
      queues.connectionString,
    )![1];
    const composePort = azuriteArgument('--queuePort');
    const atPort = (to: string) => (script: string) =>
      script.split(composePort).join(to);

    expect(await runHealthcheck(azurite, {}, atPort(port))).toBe(0);
    expect(await runHealthcheck(azurite, {}, atPort('1'))).toBe(1);
  });
});
