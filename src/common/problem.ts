import { HttpException, HttpStatus } from '@nestjs/common';

/** Media type of every error answer (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Base of the `type` URIs that name this service's kinds of problem. */
const TYPE_BASE = 'urn:maxconf:problem:';

/** The kinds of problem the API answers with; each has a stable `type`. */
export const ProblemType = {
  validation: `${TYPE_BASE}validation`,
  notFound: `${TYPE_BASE}not-found`,
  unauthorized: `${TYPE_BASE}unauthorized`,
  forbidden: `${TYPE_BASE}forbidden`,
  rateLimited: `${TYPE_BASE}rate-limited`,
  payloadTooLarge: `${TYPE_BASE}payload-too-large`,
  unsupportedMediaType: `${TYPE_BASE}unsupported-media-type`,
  pexipRejected: `${TYPE_BASE}pexip-rejected`,
  pexipUnavailable: `${TYPE_BASE}pexip-unavailable`,
  pexipTimeout: `${TYPE_BASE}pexip-timeout`,
  dependencyUnavailable: `${TYPE_BASE}dependency-unavailable`,
  internal: `${TYPE_BASE}internal`,
  generic: 'about:blank',
} as const;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  request_id?: string;
  /** Field → messages, on validation failures only. */
  errors?: Record<string, string[]>;
}

/**
 * An HTTP error that answers as `application/problem+json`. Throw it from
 * any layer that speaks HTTP (controllers, guards, pipes); services throw
 * their own errors, which the exception filter maps.
 *
 * @example throw new ProblemException(404, 'Room not found', `No room named "${name}".`);
 */
export class ProblemException extends HttpException {
  constructor(
    status: HttpStatus | number,
    readonly title: string,
    readonly detail: string,
    readonly extras: {
      type?: string;
      errors?: Record<string, string[]>;
      /** Extra answer headers, e.g. `WWW-Authenticate` or `Retry-After`. */
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(detail, status, { cause: extras.cause });
  }

  get type(): string {
    return this.extras.type ?? typeForStatus(this.getStatus());
  }
}

/** The default `type` for a status when nothing more specific applies. */
export function typeForStatus(status: number): string {
  switch (status) {
    case 400:
      return ProblemType.validation;
    case 401:
      return ProblemType.unauthorized;
    case 403:
      return ProblemType.forbidden;
    case 404:
      return ProblemType.notFound;
    case 413:
      return ProblemType.payloadTooLarge;
    case 415:
      return ProblemType.unsupportedMediaType;
    case 429:
      return ProblemType.rateLimited;
    case 502:
      return ProblemType.pexipUnavailable;
    case 504:
      return ProblemType.pexipTimeout;
    case 500:
      return ProblemType.internal;
    default:
      return ProblemType.generic;
  }
}
