/**
 * What a management-API handler decided to answer. Handlers return (or
 * throw) answers instead of writing to the response themselves, so that a
 * fault can replace the answer after the write was applied, and latency can
 * be added in one place.
 */
export interface ApiAnswer {
  status: number;
  /** Sent as JSON; `undefined` means an empty body, as Tastypie often sends. */
  body?: unknown;
  /** A body already serialized to JSON text; wins over `body`. */
  json?: string;
  headers?: Record<string, string>;
}

/**
 * An answer thrown from deep inside the store or a handler, e.g. a 400 with
 * field messages or an empty 404.
 *
 * @example throw ApiError.badRequest("Invalid limit 'x' provided.");
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body?: unknown,
  ) {
    super(`management API answers ${status}`);
    this.name = 'ApiError';
  }

  /** 400 with Tastypie's generic `{"error": …}` shape. */
  static badRequest(message: string): ApiError {
    return new ApiError(400, { error: message });
  }

  /** 400 with field messages keyed by the resource name. */
  static invalid(
    resource: string,
    fieldErrors: Record<string, string[]>,
  ): ApiError {
    return new ApiError(400, { [resource]: fieldErrors });
  }

  /** 404 with an empty body. */
  static notFound(): ApiError {
    return new ApiError(404);
  }
}
