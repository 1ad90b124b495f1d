import { isFlat, runSoak, SoakReport } from '../../scripts/soak';
import { reportFigure } from '../support/figures';

/**
 * A one-minute version of `npm run soak`: the real process, mixed traffic,
 * random Pexip faults, then a quiet drain and the checks. The seed is
 * fixed so that a failure can be replayed with
 * `npm run soak -- --seconds 60 --seed 20240305`.
 */

jest.setTimeout(300_000);

describe('a one-minute soak under random Pexip faults', () => {
  let report: SoakReport;

  beforeAll(async () => {
    report = await runSoak({ durationMs: 60_000, seed: 20240305 });
    const { stderr: _stderr, answers: _answers, ...figures } = report;
    reportFigure('soak', figures);
  });

  it('sends mixed traffic while faults are injected', () => {
    expect(report.requestsTotal).toBeGreaterThan(300);
    for (const operation of ['create', 'get', 'patch', 'delete', 'call']) {
      expect(report.requests[operation]).toBeGreaterThan(0);
    }
    expect(report.calls).toBeGreaterThan(0);
    expect(report.faultsTotal).toBeGreaterThanOrEqual(10);
  });

  it('answers every request with a status the contract allows', () => {
    expect(report.unexpected).toEqual([]);
  });

  it('leaves no room behind: every room on Pexip is persistent or in the pool', () => {
    expect(report.leakedRooms).toEqual([]);
    expect(report.persistentLost).toEqual([]);
    expect(report.roomsAtEnd).toBe(report.persistentRooms + report.poolRooms);
  });

  it('keeps answering, reports no unhandled error, and exits 0', () => {
    expect(report.crashed).toBe(false);
    expect(report.stderr).not.toMatch(/unhandled|uncaught/i);
    expect(report.exitCode).toBe(0);
  });

  it('keeps the floor of resident memory from climbing', () => {
    expect(report.rss.samples).toBeGreaterThanOrEqual(10);
    expect(isFlat(report.rss)).toBe(true);
  });

  it('passes every check of the soak', () => {
    expect(report.failures).toEqual([]);
  });
});
