/**
 * A hook that sees every HTTP attempt the Pexip adapter makes, retries and
 * token requests included. The metrics module implements it to count calls
 * and time them; the adapter works without one.
 *
 * Provide it under `PEXIP_CALL_OBSERVER` from a global module so that the
 * Pexip module can find it.
 */
export interface PexipCallObserver {
  /**
   * Called once per attempt, after it ended. Must return quickly and never
   * throw; the adapter ignores anything it throws.
   *
   * @example observer.observe({ method: 'GET', route: '/conference/:id/',
   *   status: 200, durationMs: 12, attempt: 1 });
   */
  observe(call: PexipCall): void;
}

/** One HTTP attempt as the observer sees it. */
export interface PexipCall {
  method: string;
  /**
   * Path without query, ids replaced by `:id`, configuration prefix left
   * out: `/conference/:id/`, `/conference/`, `/oauth/token/`.
   */
  route: string;
  /** HTTP status, or what happened when no answer came. */
  status: number | 'timeout' | 'network';
  durationMs: number;
  /** 1 for the first attempt of a call, 2 for its first retry, … */
  attempt: number;
}

export const PEXIP_CALL_OBSERVER = Symbol('PEXIP_CALL_OBSERVER');
