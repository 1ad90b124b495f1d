import { isAxiosError } from 'axios';

/**
 * When the Pexip adapter tries again, how long it waits, and how long a call
 * may take in all. Pure functions, so the rules can be read and tested in
 * one place.
 *
 * Time bound of one call: every call gets a budget of
 * `CALL_BUDGET_FACTOR × PEXIP_TIMEOUT_MS` from the moment it is made. Each
 * attempt times out after `PEXIP_TIMEOUT_MS` or when the budget runs out,
 * whichever comes first; waiting for a free slot, fetching an OAuth token,
 * backoff sleeps and retries all spend the same budget, and no retry starts
 * when its backoff would leave less than `MIN_ATTEMPT_MS` of it. So a call
 * whose attempts all hang fails after at most 1.5 × PEXIP_TIMEOUT_MS (the
 * first attempt spends 1 ×, a retry gets the remaining 0.5 ×), and a call
 * that keeps getting 503 stops at `PEXIP_MAX_RETRIES` retries or at the
 * budget, whichever comes first.
 *
 * Because the wait for a slot counts, a caller that queues many more calls
 * than PEXIP_MAX_CONCURRENCY while Pexip is slow sees the last ones fail
 * unsent (PexipQueueTimeoutError) rather than wait without bound; bulk work
 * should feed the adapter a few calls at a time.
 */

/** A call may take this many times PEXIP_TIMEOUT_MS, retries included. */
export const CALL_BUDGET_FACTOR = 1.5;

/** First backoff step; doubles with each retry. */
export const BACKOFF_BASE_MS = 100;

/** Longest backoff the adapter picks by itself. */
export const BACKOFF_CAP_MS = 2_000;

/** Longest `Retry-After` the adapter honours; a longer one is shortened. */
export const RETRY_AFTER_CAP_MS = 10_000;

/** A retry that would get less time than this is not worth sending. */
export const MIN_ATTEMPT_MS = 50;

/** Statuses that mean "not now" rather than "no". */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([
  429, 502, 503, 504,
]);

/**
 * Socket errors after which the request most likely never reached Pexip's
 * application, or the connection broke in a way a new one may not.
 * `ENOTFOUND` is left out: a wrong host name does not heal in a second.
 */
const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
]);

/** Axios reports its own timeout as one of these (and so does the OS). */
const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'ETIMEDOUT',
  'ECONNABORTED',
]);

/** The budget of one call, in milliseconds. */
export function callBudgetMs(timeoutMs: number): number {
  return Math.round(timeoutMs * CALL_BUDGET_FACTOR);
}

/** True when an error is a request that got no answer in time. */
export function isTimeout(error: unknown): boolean {
  return (
    isAxiosError(error) &&
    !error.response &&
    error.code !== undefined &&
    TIMEOUT_CODES.has(error.code)
  );
}

/**
 * True when a failed attempt is worth repeating: a timeout, a transient
 * socket error, or a 429/502/503/504 answer. Whether the method may be
 * repeated at all is the caller's decision.
 */
export function isTransientFailure(error: unknown): boolean {
  if (!isAxiosError(error)) {
    return false;
  }
  if (error.response) {
    return RETRYABLE_STATUSES.has(error.response.status);
  }
  return (
    isTimeout(error) ||
    (error.code !== undefined && TRANSIENT_NETWORK_CODES.has(error.code))
  );
}

/**
 * The wait before retry number `retryNumber` (1 for the first retry):
 * exponential from `BACKOFF_BASE_MS`, capped at `BACKOFF_CAP_MS`, with "equal
 * jitter" (between half and all of the step) so that callers that failed
 * together do not come back together. A `Retry-After` answer header makes
 * the wait at least that long, up to `RETRY_AFTER_CAP_MS`.
 *
 * @example backoffDelayMs(1) // 50–100 ms
 * @example backoffDelayMs(1, '3') // 3000 ms
 */
export function backoffDelayMs(
  retryNumber: number,
  retryAfter?: string,
  now: number = Date.now(),
  random: () => number = Math.random,
): number {
  const step = Math.min(
    BACKOFF_CAP_MS,
    BACKOFF_BASE_MS * 2 ** (retryNumber - 1),
  );
  const jittered = step / 2 + (random() * step) / 2;
  const asked = parseRetryAfterMs(retryAfter, now);
  const delay =
    asked === undefined
      ? jittered
      : Math.max(jittered, Math.min(asked, RETRY_AFTER_CAP_MS));
  return Math.round(delay);
}

/**
 * Reads a `Retry-After` value: delay-seconds or an HTTP date.
 *
 * @returns milliseconds from `now` (never negative), or undefined when the
 *   value is missing or unreadable.
 */
export function parseRetryAfterMs(
  value: string | undefined,
  now: number = Date.now(),
): number | undefined {
  const text = value?.trim();
  if (!text) {
    return undefined;
  }
  if (/^\d+$/.test(text)) {
    return Number(text) * 1000;
  }
  // Every HTTP date form starts with the day's name; this keeps Date.parse
  // from reading "-1" as a year.
  const at = /^[A-Za-z]{3}/.test(text) ? Date.parse(text) : NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
