/**
 * Prints a measured figure so that the test run shows it, one line a
 * figure, marked `[figure]` for searching a long log.
 *
 * @example reportFigure('shutdown', { exitedAfterMs: 1200 });
 */
export function reportFigure(label: string, value: unknown): void {
  process.stdout.write(`[figure] ${label}: ${JSON.stringify(value)}\n`);
}

/**
 * Milliseconds `work` took, with its result.
 *
 * @example const { result, ms } = await timed(() => rig.create(EXAMPLE_UUI));
 */
export async function timed<T>(
  work: () => Promise<T>,
): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}
