/**
 * Time in the two forms Pexip uses: naive ISO 8601 in UTC with six
 * fractional digits on the REST API, and float epoch seconds in event-sink
 * messages.
 */

/** Microseconds since the epoch, finer than `Date.now()` allows. */
function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** e.g. `2024-03-05T14:31:06.145782` (UTC, no zone). */
export function naiveIsoNow(): string {
  const micros = nowMicros();
  const seconds = new Date(Math.floor(micros / 1000))
    .toISOString()
    .slice(0, 19);
  return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
}

/** e.g. `1717000000.123456`. */
export function epochSecondsNow(): number {
  return nowMicros() / 1_000_000;
}
