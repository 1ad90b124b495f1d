import { ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JwksServer, startJwksServer } from '../support/jwks-server';
import { startTestSimulator, TestSimulator } from '../support/simulator';

/**
 * The real entry point, `src/main.ts`, started as operators start it with
 * every secret set: the effective configuration it logs masks each one,
 * and neither that nor any other start-up line, nor a refusal to start,
 * prints a secret.
 */

const ROOT = resolve(__dirname, '..', '..');
const TS_NODE = join(
  ROOT,
  'node_modules',
  'ts-node',
  'register',
  'transpile-only',
);
const MAIN = join(ROOT, 'src', 'main.ts');

const marker = (label: string) => `${label}${randomBytes(6).toString('hex')}`;

interface Started {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Runs main.ts in a clean directory (no `.env`) with exactly `env`. */
function startMain(env: Record<string, string>, cwd: string): Started {
  const child = spawn(process.execPath, ['-r', TS_NODE, MAIN], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((done) =>
    child.on('exit', (code) => done(code)),
  );
  return { child, output: () => text, exited };
}

async function waitFor(
  started: Started,
  pattern: RegExp,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(started.output())) {
    if (started.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`main.ts never logged ${pattern}:\n${started.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('start-up of src/main.ts', () => {
  let pexip: TestSimulator;
  let jwks: JwksServer;
  let dir: string;
  const pexipPassword = marker('pexipPw');
  const sinkPassword = marker('sinkPw');
  const accountKey = Buffer.from(marker('azureKey')).toString('base64');
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
  });
  const privatePem = privateKey
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const secrets = {
    'Pexip password': pexipPassword,
    'event-sink password': sinkPassword,
    'Azure account key': accountKey,
    'Pexip private key (base64 of the PEM)':
      Buffer.from(privatePem).toString('base64'),
    ...Object.fromEntries(
      privatePem
        .split('\n')
        .filter((line) => line && !line.startsWith('-----'))
        .map((line, i) => [`Pexip private key, PEM line ${i + 1}`, line]),
    ),
  };

  beforeAll(async () => {
    pexip = await startTestSimulator({
      oauthClients: [
        {
          clientId: 'maxconf',
          publicKeyPem: publicKey
            .export({ type: 'spki', format: 'pem' })
            .toString(),
        },
      ],
    });
    jwks = await startJwksServer();
    dir = mkdtempSync(join(tmpdir(), 'maxconf-startup-'));
  });

  afterAll(async () => {
    await pexip?.close();
    await jwks?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const productionEnv = () => ({
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'trace',
    SHUTDOWN_GRACE_MS: '0',
    SQLITE_PATH: join(dir, 'maxconf.db'),
    PEXIP_URL: pexip.url,
    PEXIP_USERNAME: 'admin',
    PEXIP_PASSWORD: pexipPassword,
    PEXIP_CLIENT_ID: 'maxconf',
    PEXIP_PRIVATE_KEY: secrets['Pexip private key (base64 of the PEM)'],
    AUTH_JWKS_URL: jwks.url,
    AUTH_ISSUER: jwks.issuer,
    AUTH_AUDIENCE: jwks.audience,
    EVENT_SINK_USERNAME: 'pexip',
    EVENT_SINK_PASSWORD: sinkPassword,
    AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=https;AccountName=maxconfqueues;AccountKey=${accountKey};EndpointSuffix=core.windows.net`,
    POOL_TARGET_SIZE: '0',
    METRICS_LOG_INTERVAL_SECONDS: '0',
  });

  it('logs the effective configuration with every secret masked', async () => {
    const started = startMain(productionEnv(), dir);
    try {
      await waitFor(started, /MaxConf listening on/, 90_000);
    } finally {
      started.child.kill('SIGTERM');
      await started.exited;
    }

    const lines = started
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, any>);
    const logged = lines.find((l) => l.msg === 'effective configuration');
    expect(logged?.config).toMatchObject({
      nodeEnv: 'production',
      pexip: {
        url: pexip.url,
        username: 'admin',
        password: '***',
        clientId: 'maxconf',
        privateKeyPem: '***',
      },
      queue: { azureConnectionString: '***' },
      eventSink: { username: 'pexip', password: '***' },
      auth: { mode: 'jwt', jwksUrl: jwks.url },
    });
    const leaked = Object.entries(secrets)
      .filter(([, value]) => started.output().includes(value))
      .map(([name]) => name);
    expect(leaked).toEqual([]);
  }, 120_000);

  it('names the wrong variables when it refuses to start, without their secret values', async () => {
    const badKey = marker('not-a-pem-');
    const started = startMain(
      {
        ...productionEnv(),
        PEXIP_PRIVATE_KEY: badKey,
        EVENT_SINK_USERNAME: '',
      },
      dir,
    );

    expect(await started.exited).toBe(1);
    const output = started.output();
    expect(output).toContain('EVENT_SINK_USERNAME');
    expect(output).toContain('PEXIP_PRIVATE_KEY');
    for (const secret of [badKey, pexipPassword, sinkPassword, accountKey]) {
      expect(output).not.toContain(secret);
    }
  }, 120_000);
});
