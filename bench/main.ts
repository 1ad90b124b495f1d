/**
 * MaxConf's benchmark: `npm run bench` (full) or `npm run bench:smoke`
 * (a short run for CI that enforces no target but fails when a scenario
 * errors). Starts the compiled Pexip simulator and the compiled service as
 * processes of their own, drives them with autocannon from this one, and
 * writes the results as JSON and Markdown.
 *
 *   ts-node --transpile-only bench/main.ts [--smoke] [--latency 20]
 *     [--dist dist] [--out bench/results/latest] [--only create,list]
 *
 * Every figure is compared with the floor Pexip's own latency sets,
 * measured in the same run; docs/PERFORMANCE.md explains each floor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startJwksServer } from '../test/support/jwks-server';
import { bulkCreateScenario } from './scenarios/bulk-create.scenario';
import { coldStartScenario } from './scenarios/cold-start.scenario';
import { collectorScenario } from './scenarios/collector.scenario';
import { createRoomScenario } from './scenarios/create-room.scenario';
import { getRoomScenario } from './scenarios/get-room.scenario';
import { listRoomsScenario } from './scenarios/list-rooms.scenario';
import {
  BenchContext,
  FULL_PROFILE,
  ResultRow,
  ScenarioResult,
  SMOKE_PROFILE,
} from './support/bench-context';
import {
  BenchReport,
  loadAverage,
  machineInfo,
  markdownTable,
  writeReport,
} from './support/report-writer';
import { startServiceProcess } from './support/service-process';
import { startSimulatorProcess } from './support/simulator-process';

const SCENARIOS: Record<
  string,
  (ctx: BenchContext) => Promise<ScenarioResult>
> = {
  'cold-start': coldStartScenario,
  create: createRoomScenario,
  'get-room': getRoomScenario,
  list: listRoomsScenario,
  collector: collectorScenario,
  'bulk-create': bulkCreateScenario,
};

const REPO = resolve(__dirname, '..');

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      latency: { type: 'string', default: '20' },
      dist: { type: 'string', default: 'dist' },
      out: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const profile = values.smoke ? SMOKE_PROFILE : FULL_PROFILE;
  const latencyMs = Number(values.latency);
  if (!Number.isInteger(latencyMs) || latencyMs < 1) {
    throw new Error(
      '--latency must be a whole number of milliseconds, at least 1',
    );
  }
  const chosen = values.only ? values.only.split(',') : Object.keys(SCENARIOS);
  const unknown = chosen.filter((name) => !(name in SCENARIOS));
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`,
    );
  }
  const dist = resolve(REPO, values.dist);
  const workDir = mkdtempSync(join(tmpdir(), 'maxconf-bench-'));
  const out =
    values.out ??
    (values.smoke
      ? join(tmpdir(), 'maxconf-bench-smoke')
      : join(REPO, 'bench', 'results', 'latest'));
  const log = (message: string) =>
    process.stderr.write(
      `[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`,
    );

  const started = performance.now();
  const loadAtStart = loadAverage();
  log(
    `${profile.name} run, L = ${latencyMs} ms, load average ${loadAtStart.join(' / ')}`,
  );
  if (loadAtStart[0] > 1) {
    log('the machine is busy (1-minute load above 1): figures will be noisy');
  }

  // Children get a clean environment: no stray PEXIP_URL or .env of the
  // developer's, only what finds programs and this repository's packages.
  const baseEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NODE_PATH: join(REPO, 'node_modules'),
  };
  const issuer = await startJwksServer({ alg: 'RS256' });
  const simulator = await startSimulatorProcess({
    dist,
    workDir,
    latencyMs,
    baseEnv,
  });
  const ctx: BenchContext = {
    profile,
    latencyMs,
    simulator,
    issuer,
    workDir,
    startService: (options = {}) =>
      startServiceProcess({
        dist,
        workDir,
        simulator,
        issuer,
        baseEnv,
        ...options,
      }),
    log,
  };

  const rows: ResultRow[] = [];
  const scenarios: Record<string, unknown> = {};
  const failures: BenchReport['failures'] = [];
  try {
    for (const name of chosen) {
      const scenarioStart = performance.now();
      log(`scenario ${name}`);
      try {
        const result = await SCENARIOS[name](ctx);
        rows.push(...result.rows);
        scenarios[name] = {
          ...result.details,
          seconds: Math.round((performance.now() - scenarioStart) / 100) / 10,
          loadAverageAfter: loadAverage(),
        };
      } catch (error) {
        const message = (error as Error).stack ?? String(error);
        log(`scenario ${name} failed: ${message}`);
        failures.push({ scenario: name, error: (error as Error).message });
      }
    }
  } finally {
    await simulator.stop();
    await issuer.stop();
  }

  const report: BenchReport = {
    date: new Date().toISOString(),
    profile: profile.name,
    latencyMs,
    machine: machineInfo(),
    loadAverage: { start: loadAtStart, end: loadAverage() },
    durationSeconds: Math.round((performance.now() - started) / 1000),
    rows,
    scenarios,
    failures,
  };
  writeReport(report, out);
  process.stdout.write(
    `\n${markdownTable(rows)}\n\nResults: ${out}.json, ${out}.md\n`,
  );
  rmSync(workDir, { recursive: true, force: true });
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
