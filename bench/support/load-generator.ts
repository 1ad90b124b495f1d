import autocannon from 'autocannon';

export interface LoadOptions {
  /** Base URL of the target. */
  url: string;
  connections: number;
  /** Run for this long (seconds)… */
  durationSeconds?: number;
  /** …or until this many requests have been answered. */
  amount?: number;
  method?: string;
  headers?: Record<string, string>;
  /** Path of the n-th request (0-based), e.g. a unique query per request. */
  path: (n: number) => string;
  /** Body of the n-th request, when it has one. */
  body?: (n: number) => string;
  /** `Authorization` of the n-th request, when it varies. */
  authorization?: (n: number) => string;
}

export interface LoadResult {
  /** Answers received, any status. */
  readonly answered: number;
  readonly seconds: number;
  /** 2xx answers per second. */
  readonly rps: number;
  /** Latency percentiles of 2xx answers, in ms, to 0.01 ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  readonly non2xx: number;
  /** Count per status code. */
  readonly statuses: Record<string, number>;
}

/**
 * Runs autocannon in this process against a server in another one.
 * Latencies are taken from each answer to the hundredth of a millisecond
 * (autocannon's own histogram keeps whole milliseconds, too coarse for a
 * ratio to a 40 ms floor).
 *
 * @example const r = await runLoad({ url, connections: 10, durationSeconds: 5, path: () => '/room/x' });
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let next = 0;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};

  const started = performance.now();
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    // autocannon refuses a key present but undefined.
    ...(options.amount === undefined
      ? { duration: options.durationSeconds ?? 10 }
      : { amount: options.amount }),
    timeout: 30,
    headers: options.headers,
    requests: [
      {
        method: options.method ?? 'GET',
        setupRequest: (request) => {
          const n = next++;
          return {
            ...request,
            path: options.path(n),
            ...(options.body ? { body: options.body(n) } : {}),
            ...(options.authorization
              ? {
                  headers: {
                    ...request.headers,
                    Authorization: options.authorization(n),
                  },
                }
              : {}),
          };
        },
      },
    ],
  });
  // autocannon notices that `amount` is reached only at its next
  // one-second tick; the run ends, for the rate, with the last answer.
  let lastAnswerAt = started;
  instance.on(
    'response',
    (_client: unknown, status: number, _bytes: number, ms: number) => {
      lastAnswerAt = performance.now();
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) latencies.push(ms);
    },
  );
  const result = await instance;
  const seconds = (lastAnswerAt - started) / 1000;

  latencies.sort((a, b) => a - b);
  const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    answered,
    seconds: round(seconds, 3),
    rps: round(latencies.length / seconds, 1),
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    errors: result.errors,
    non2xx: answered - latencies.length,
    statuses,
  };
}

/** Nearest-rank percentile of sorted values; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
