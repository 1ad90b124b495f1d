/**
 * Prints a measured figure so that the test run shows it, one line a
 * figure, marked `[figure]` for searching a long log.
 *
 * @example reportFigure('shutdown', { exitedAfterMs: 1200 });
 */
export function reportFigure(label: string, value: unknown): void {
  process.stdout.write(`[figure] ${label}: ${JSON.stringify(value)}\n`);
}
