/** One management-API request as the control surface reports it. */
export interface LoggedRequest {
  method: string;
  /** Path with its query string, as received. */
  path: string;
  /** Status sent; `null` while unanswered or when never answered. */
  status: number | null;
}

/**
 * The log of management-API requests, oldest first, for tests that assert
 * what a client really sent (e.g. that a POST was not retried).
 *
 * It keeps the newest `capacity` entries so a long benchmark cannot exhaust
 * memory; the oldest tenth is dropped at once when it overflows.
 */
export class RequestLog {
  private entries: LoggedRequest[] = [];

  constructor(private readonly capacity = 100_000) {}

  /**
   * Adds a request as it arrives.
   *
   * @returns the entry, whose `status` the caller fills in when it answers
   */
  record(method: string, path: string): LoggedRequest {
    const entry: LoggedRequest = { method, path, status: null };
    this.entries.push(entry);
    if (this.entries.length > this.capacity) {
      this.entries.splice(0, Math.ceil(this.capacity / 10));
    }
    return entry;
  }

  /** Every kept entry, oldest first. */
  list(): readonly LoggedRequest[] {
    return this.entries;
  }

  clear(): void {
    this.entries = [];
  }
}
