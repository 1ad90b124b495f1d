/**
 * Calls `probe` until `accept` holds its value, and answers that value.
 * For waiting on background work (a timer, a queue, another process), not
 * for asserting how long it took.
 *
 * @param what names the awaited state in the failure message.
 * @param timeoutMs how long to keep polling; below Jest's test timeout, so
 *   a miss reports what it saw instead of a bare Jest timeout.
 * @param intervalMs the pause between two probes.
 * @throws Error naming `what` and the last value once `timeoutMs` passes.
 * @example
 * const state = await waitFor(rig.pool, (s) => s.creating === 0, 'the pool');
 */
export async function waitFor<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
