import type { JwksServer } from '../../test/support/jwks-server';
import { ServiceOptions, ServiceProcess } from './service-process';
import { SimulatorProcess } from './simulator-process';

/** How much work each scenario does: the full run or the CI smoke run. */
export interface BenchProfile {
  readonly name: 'full' | 'smoke';
  /** Creates answered per measured create run, per client count. */
  readonly creates: Readonly<Record<number, number>>;
  /** Creates answered while warming up, before measuring. */
  readonly createWarmUp: number;
  /** Seconds of measured load for throughput scenarios. */
  readonly seconds: number;
  readonly warmUpSeconds: number;
  /** Room counts of the list scenario; the first is the timed one. */
  readonly listSizes: readonly number[];
  /** Timed walks per list size (the median is reported). */
  readonly listRepeats: number;
  readonly collectorRooms: number;
  readonly collectorQueued: number;
  readonly bulkCount: number;
  readonly coldStarts: number;
}

export const FULL_PROFILE: BenchProfile = {
  name: 'full',
  creates: { 10: 3_000, 50: 6_000 },
  createWarmUp: 500,
  seconds: 10,
  warmUpSeconds: 5,
  listSizes: [5_000, 1_000, 20_000],
  listRepeats: 5,
  collectorRooms: 10_000,
  collectorQueued: 2_000,
  bulkCount: 500,
  coldStarts: 5,
};

export const SMOKE_PROFILE: BenchProfile = {
  name: 'smoke',
  creates: { 10: 100, 50: 200 },
  createWarmUp: 50,
  seconds: 2,
  warmUpSeconds: 0.5,
  listSizes: [1_000, 2_000],
  listRepeats: 1,
  collectorRooms: 500,
  collectorQueued: 100,
  bulkCount: 50,
  coldStarts: 1,
};

/** What every scenario is given. */
export interface BenchContext {
  readonly profile: BenchProfile;
  /** Latency the simulator adds to every answer (L), in ms. */
  readonly latencyMs: number;
  readonly simulator: SimulatorProcess;
  readonly issuer: JwksServer;
  readonly workDir: string;
  /** Starts a service instance; every instance's start-up time is kept. */
  startService(
    options?: Pick<ServiceOptions, 'env' | 'sqlitePath'>,
  ): Promise<ServiceProcess>;
  /** Progress for the person running the benchmark. */
  log(message: string): void;
}

/** One line of the results table. */
export interface ResultRow {
  readonly scenario: string;
  /** Load or size, e.g. "10 clients" or "5,000 rooms". */
  readonly load: string;
  readonly rps?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  /** The figure compared with the floor, with its unit. */
  readonly measured: string;
  readonly floor: string;
  readonly ratio?: number;
  /** e.g. "≤ 1.15"; undefined when the row only informs. */
  readonly target?: string;
  readonly met?: boolean;
}

export interface ScenarioResult {
  readonly name: string;
  readonly rows: ResultRow[];
  /** Everything else measured, for the JSON file. */
  readonly details: Record<string, unknown>;
}

/** True when `ratio` meets a target written as "≤ x", "≥ x" or "< x". */
export function meets(value: number, target: string): boolean {
  const match = /^([≤≥<>])\s*([\d.]+)/.exec(target);
  if (!match || !Number.isFinite(value)) return false;
  const limit = Number(match[2]);
  switch (match[1]) {
    case '≤':
      return value <= limit;
    case '≥':
      return value >= limit;
    case '<':
      return value < limit;
    default:
      return value > limit;
  }
}
