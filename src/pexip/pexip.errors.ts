/**
 * What can go wrong talking to Pexip, as the rest of the service needs to
 * tell it apart. The HTTP layer maps these to answers: not found → 404,
 * rejected → 400 with Pexip's field messages, timeout → 504, anything else
 * → 502. Each error keeps the original failure as its `cause`.
 */
export interface PexipErrorOptions {
  cause?: unknown;
  /**
   * A write got no clear answer and the look-up after it failed too: the
   * object may or may not exist on Pexip.
   */
  outcomeUnknown?: boolean;
}

export class PexipError extends Error {
  /** See `PexipErrorOptions.outcomeUnknown`; false unless said so. */
  readonly outcomeUnknown: boolean;

  constructor(message: string, options?: PexipErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.outcomeUnknown = options?.outcomeUnknown ?? false;
  }
}

/** Pexip answered 404 for the object asked for. */
export class PexipNotFoundError extends PexipError {}

/** Pexip refused the request as invalid (400), with its field messages. */
export class PexipRejectedError extends PexipError {
  constructor(
    message: string,
    /** Field name → Pexip's messages, e.g. `{ pin: ['…'] }`. */
    readonly fieldErrors: Record<string, string[]>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No answer within the timeout, after any retries. */
export class PexipTimeoutError extends PexipError {}

/**
 * Pexip could not be reached or gave a bad answer (5xx, 401 to our own
 * credentials, 429 after retries, an unreadable body).
 */
export class PexipUnavailableError extends PexipError {
  constructor(
    message: string,
    /** Status Pexip answered, when it answered at all. */
    readonly status?: number,
    options?: PexipErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The call waited for a free slot (PEXIP_MAX_CONCURRENCY calls were in
 * flight) until its time budget ran out, so it was never sent. Unlike other
 * timeouts, this one says for certain that Pexip changed nothing.
 */
export class PexipQueueTimeoutError extends PexipTimeoutError {}
