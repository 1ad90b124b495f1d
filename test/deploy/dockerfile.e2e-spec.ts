import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { startJwksServer, JwksServer } from '../support/jwks-server';
import { startTestSimulator, TestSimulator } from '../support/simulator';
import {
  DockerStage,
  dockerignorePatterns,
  envPairs,
  execForm,
  instructionsOf,
  isIgnored,
  parseDockerfile,
} from './support/dockerfile-parser';
import { unknownEnvNames } from './support/env-names';
import {
  buildLikeTheImage,
  exited,
  ImageLikeBuild,
  REPO_ROOT,
} from './support/image-build';
import { RunningProgram, startProgram } from './support/program';
import { freePort } from '../support/free-port';

// No Docker engine runs in CI. These tests read the Dockerfile as Docker
// would, then do what the image does without the engine: compile with the
// image's build command, start the image's CMD with the image's ENV from a
// folder laid out like its WORKDIR, and run its HEALTHCHECK command.

const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const ignorePatterns = dockerignorePatterns(
  readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'),
);
const stages = parseDockerfile(dockerfile);
const [buildStage, runtimeStage] = stages;

/** Paths the build stage copies from the build context. */
const copiedFromContext = instructionsOf(buildStage, 'COPY')
  .filter((i) => !i.args.startsWith('--from'))
  .flatMap((i) => i.args.split(/\s+/).slice(0, -1));

const runs = (stage: DockerStage) =>
  instructionsOf(stage, 'RUN').map((i) => i.args);
const runtimeEnv = (): Record<string, string> =>
  Object.assign(
    {},
    ...instructionsOf(runtimeStage, 'ENV').map((i) => envPairs(i.args)),
  );
const workdir = (stage: DockerStage) =>
  instructionsOf(stage, 'WORKDIR').at(-1)?.args;
const command = () =>
  execForm(instructionsOf(runtimeStage, 'CMD').at(-1)!.args);
const healthcheck = () => {
  const args = instructionsOf(runtimeStage, 'HEALTHCHECK').at(-1)!.args;
  return execForm(args.slice(args.indexOf('CMD ') + 4));
};

describe('Dockerfile', () => {
  it('builds in one stage and runs from a second, both on Node 20 bookworm-slim', () => {
    expect(stages.map((s) => [s.name, s.base])).toEqual([
      ['build', 'node:20-bookworm-slim'],
      ['runtime', 'node:20-bookworm-slim'],
    ]);
  });

  it('installs the native-module toolchain, installs from the lock file, builds, then drops dev dependencies', () => {
    const steps = runs(buildStage).join('\n');

    expect(steps).toMatch(
      /apt-get install -y --no-install-recommends python3 make g\+\+/,
    );
    const order = ['npm ci', 'npm run build', 'npm prune --omit=dev'].map(
      (step) => steps.indexOf(step),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('carries into the runtime stage only the build output and the pruned dependencies, with no compilers', () => {
    const copies = instructionsOf(runtimeStage, 'COPY').map((i) => i.args);

    expect(copies.every((args) => args.startsWith('--from=build '))).toBe(true);
    expect(copies.map((args) => args.split(/\s+/)[1]).sort()).toEqual([
      '/app/dist',
      '/app/node_modules',
      '/app/package.json',
    ]);
    expect(runs(runtimeStage).join('\n')).not.toMatch(
      /apt-get|npm (ci|install)/,
    );
  });

  it('runs as the unprivileged node user, with only the queue store folder writable', () => {
    const users = instructionsOf(runtimeStage, 'USER').map((i) => i.args);
    const sqliteFolder = runtimeEnv().SQLITE_PATH.replace(/\/[^/]+$/, '');

    expect(users.at(-1)).toBe('node');
    expect(runs(runtimeStage)).toContain(
      `mkdir -p ${sqliteFolder} && chown node:node ${sqliteFolder}`,
    );
    expect(sqliteFolder.startsWith(`${workdir(runtimeStage)}/`)).toBe(true);
  });

  it('sets production mode, exposes the service port and reads only variables the service knows', () => {
    const env = runtimeEnv();

    expect(env.NODE_ENV).toBe('production');
    expect(instructionsOf(runtimeStage, 'EXPOSE').map((i) => i.args)).toEqual([
      env.PORT,
    ]);
    expect(unknownEnvNames(Object.keys(env))).toEqual([]);
  });

  it('checks health on the liveness route with Node itself, and starts the compiled service without a shell', () => {
    expect(healthcheck().slice(0, 2)).toEqual(['node', '-e']);
    expect(healthcheck()[2]).toContain('/public/health');
    expect(healthcheck()[2]).not.toContain('/public/health/ready');
    expect(command()).toEqual(['node', 'dist/src/main.js']);
  });

  it('sends the daemon everything the build copies, and no secrets or local builds', () => {
    for (const path of copiedFromContext) {
      expect({ path, exists: existsSync(join(REPO_ROOT, path)) }).toEqual({
        path,
        exists: true,
      });
      expect({ path, ignored: isIgnored(ignorePatterns, path) }).toEqual({
        path,
        ignored: false,
      });
    }
    for (const path of ['.env', 'node_modules', 'dist', 'data', '.git']) {
      expect({ path, ignored: isIgnored(ignorePatterns, path) }).toEqual({
        path,
        ignored: true,
      });
    }
  });

  it('uses the build tool configuration the image build relies on', () => {
    const nestCli = JSON.parse(
      readFileSync(join(REPO_ROOT, 'nest-cli.json'), 'utf8'),
    );

    expect(nestCli.compilerOptions.tsConfigPath).toBe('tsconfig.build.json');
    expect(nestCli.entryFile).toBe('src/main');
  });
});

describe('the image, run without Docker', () => {
  let build: ImageLikeBuild;
  let pexip: TestSimulator;
  let issuer: JwksServer;
  let service: RunningProgram | undefined;
  let port: number;

  /** The image's ENV, its paths moved into the build folder, plus what a deployment sets. */
  const containerEnv = (): Record<string, string> => {
    const image = runtimeEnv();
    const app = workdir(runtimeStage)!;
    return {
      ...image,
      SQLITE_PATH: image.SQLITE_PATH.replace(app, build.root),
      PORT: String(port),
      HOST: '127.0.0.1',
      PEXIP_URL: pexip.url,
      PEXIP_USERNAME: pexip.username,
      PEXIP_PASSWORD: pexip.password,
      AUTH_JWKS_URL: issuer.url,
      AUTH_ISSUER: issuer.issuer,
      AUTH_AUDIENCE: issuer.audience,
      EVENT_SINK_USERNAME: 'pexip',
      EVENT_SINK_PASSWORD: 'event-sink-test-password',
      POOL_TARGET_SIZE: '0',
      SHUTDOWN_GRACE_MS: '0',
    };
  };

  const runHealthcheck = async (): Promise<number | null> => {
    const [program, ...args] = healthcheck();
    expect(program).toBe('node');
    const check = spawn(process.execPath, args, {
      env: { PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return (await exited(check, 15_000)).code;
  };

  beforeAll(async () => {
    // One at a time, so that a failed build leaves nothing unassigned
    // (and so unclosed) behind.
    port = await freePort();
    pexip = await startTestSimulator();
    issuer = await startJwksServer();
    build = await buildLikeTheImage(copiedFromContext, ignorePatterns);
  }, 180_000);

  afterAll(async () => {
    await service?.stop('SIGKILL', 5_000);
    await Promise.all([pexip?.close(), issuer?.stop()]);
    build?.remove();
  });

  it('compiles to the paths the image starts: the service and the simulator', () => {
    expect(existsSync(join(build.root, ...command()[1].split('/')))).toBe(true);
    expect(existsSync(join(build.root, 'dist', 'simulator', 'main.js'))).toBe(
      true,
    );
  });

  it('needs at run time only production dependencies, the ones `npm prune --omit=dev` keeps', () => {
    const { dependencies } = JSON.parse(
      readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'),
    ) as { dependencies: Record<string, string> };
    const required = new Set<string>();
    for (const file of javascriptFiles(join(build.root, 'dist'))) {
      for (const [, name] of readFileSync(file, 'utf8').matchAll(
        /require\("([^".][^"]*)"\)/g,
      )) {
        required.add(packageName(name));
      }
    }

    const missing = [...required].filter(
      (name) => !isBuiltin(name) && !(name in dependencies),
    );
    expect(required.size).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  it('fails its health check while nothing answers', async () => {
    expect(await runHealthcheck()).toBe(1);
  });

  it('starts in production mode from its CMD, passes its health check, hands out a room and is ready', async () => {
    service = startProgram(command(), build.root, containerEnv());
    await service.waitForOutput(/MaxConf listening/, 60_000);

    expect(await runHealthcheck()).toBe(0);

    const token = await issuer.signToken();
    const created = await fetch(
      `http://127.0.0.1:${port}/room/create?uuiData=6964264d54497a4e4455324c4463324e54517a4d67;encoding=hex`,
      { method: 'POST', headers: { Authorization: `Bearer ${token}` } },
    );
    expect(created.status).toBe(200);
    expect(await created.json()).toMatchObject({
      tag: 'https://id.gov.bc.ca/idcheck/protected/video/MTIzNDU2LDc2NTQzMg',
    });

    const ready = await fetch(`http://127.0.0.1:${port}/public/health/ready`);
    expect(ready.status).toBe(200);
    expect(existsSync(containerEnv().SQLITE_PATH)).toBe(true);
  });

  it('drains and exits 0 on SIGTERM, as the orchestrator stops a container', async () => {
    expect(service).toBeDefined();

    const code = await service!.stop('SIGTERM', 30_000);

    expect(code).toBe(0);
    expect(service!.output()).toContain('shut down cleanly');
  });
});

/** Every `.js` file under a folder. */
function javascriptFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.js'))
    .map((file) => join(folder, file));
}

/** `@nestjs/core/x` → `@nestjs/core`; `lodash/fp` → `lodash`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}
