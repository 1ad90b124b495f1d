import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { ResultRow } from './bench-context';

export interface MachineInfo {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGb: number;
  readonly node: string;
  readonly kernel: string;
}

export interface BenchReport {
  readonly date: string;
  readonly profile: string;
  readonly latencyMs: number;
  readonly machine: MachineInfo;
  /** 1, 5 and 15-minute load averages when the run started and ended. */
  readonly loadAverage: { start: number[]; end: number[] };
  readonly durationSeconds: number;
  readonly rows: ResultRow[];
  readonly scenarios: Record<string, unknown>;
  /** Scenarios that threw, with the message. */
  readonly failures: { scenario: string; error: string }[];
}

/** What the machine is, read from Node and /proc/cpuinfo. */
export function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(
      readFileSync('/proc/cpuinfo', 'utf8'),
    );
    if (match) cpuModel = match[1].trim();
  } catch {
    // Not Linux: keep what Node says.
  }
  return {
    nproc: cpus().length,
    cpuModel,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
  };
}

export function loadAverage(): number[] {
  return loadavg().map((value) => Math.round(value * 100) / 100);
}

/** Writes `<base>.json` and `<base>.md`. */
export function writeReport(report: BenchReport, base: string): void {
  mkdirSync(dirname(base), { recursive: true });
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdownReport(report));
}

/** The results table with the run's circumstances above it. */
export function markdownReport(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `# MaxConf benchmark, ${report.profile} run`,
    '',
    `${report.date}; ${m.nproc} × ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node}, Linux ${m.kernel}; ` +
      `simulator latency L = ${report.latencyMs} ms; load average ${report.loadAverage.start.join(' / ')} at start, ` +
      `${report.loadAverage.end.join(' / ')} at end; ${report.durationSeconds} s in all.`,
    '',
    markdownTable(report.rows),
  ];
  if (report.failures.length > 0) {
    lines.push('', '## Failed scenarios', '');
    for (const failure of report.failures) {
      lines.push(`- **${failure.scenario}**: ${failure.error}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function markdownTable(rows: readonly ResultRow[]): string {
  const header =
    '| scenario | load | req/s | p50 ms | p99 ms | measured | floor | ratio | target | met |\n' +
    '|---|---|---:|---:|---:|---|---|---:|---|---|';
  const cell = (value: number | string | undefined) =>
    value === undefined ? '' : String(value);
  const body = rows.map(
    (row) =>
      `| ${row.scenario} | ${row.load} | ${cell(row.rps)} | ${cell(row.p50Ms)} | ${cell(row.p99Ms)} | ${row.measured} | ${row.floor} | ${cell(row.ratio)} | ${cell(row.target)} | ${row.met === undefined ? '' : row.met ? 'yes' : '**no**'} |`,
  );
  return [header, ...body].join('\n');
}
