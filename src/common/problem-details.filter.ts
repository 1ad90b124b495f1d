import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { Request, Response } from 'express';
import {
  PexipError,
  PexipNotFoundError,
  PexipRejectedError,
  PexipTimeoutError,
} from '../pexip/pexip.errors';
import { requestId } from './logging';
import {
  PROBLEM_CONTENT_TYPE,
  ProblemBody,
  ProblemException,
  ProblemType,
  typeForStatus,
} from './problem';

interface MappedProblem {
  body: Omit<ProblemBody, 'request_id'>;
  headers?: Record<string, string>;
}

/**
 * Turns every error that escapes a route into an RFC 9457 answer with the
 * request id, and never lets a stack trace or internal message out: only
 * errors we raised on purpose carry their own text.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProblemDetailsFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const request = context.getRequest<Request & { id?: unknown }>();
    const response = context.getResponse<Response>();
    const mapped = this.map(exception);
    const report = isHealthReport(exception) ? exception : undefined;

    if (mapped.body.status >= 500) {
      // The answer says little on purpose; the log keeps the whole story
      // under the same request id.
      this.logger.error(
        {
          err: exception,
          method: request.method,
          path: request.path,
          status: mapped.body.status,
          ...(report ? { checks: failedChecks(report) } : {}),
        },
        `${request.method} ${request.path} failed: ${
          exception instanceof Error ? exception.message : mapped.body.detail
        }`,
      );
    }

    // A streamed answer that fails half-way can no longer change its
    // status; cutting the connection is the only honest signal left.
    if (response.headersSent) {
      response.destroy();
      return;
    }

    if (report) {
      // Readiness keeps terminus's own shape, which probes and dashboards
      // read, but not the checks' messages: the route is public, and a
      // failing check's message names hosts, paths and socket errors.
      response.status(report.getStatus()).json(withoutMessages(report));
      return;
    }

    // Body parsing and URL decoding fail before the logging middleware
    // gives the request its id; the caller still needs one to quote.
    request.id ??= requestId(request, response);
    const body: ProblemBody = {
      ...mapped.body,
      request_id: String(request.id),
    };
    response.status(body.status);
    for (const [name, value] of Object.entries(mapped.headers ?? {})) {
      response.setHeader(name, value);
    }
    response.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
    response.end(JSON.stringify(body));
  }

  private map(exception: unknown): MappedProblem {
    if (exception instanceof ProblemException) {
      return {
        body: {
          type: exception.type,
          title: exception.title,
          status: exception.getStatus(),
          detail: exception.detail,
          ...(exception.extras.errors
            ? { errors: exception.extras.errors }
            : {}),
        },
        headers: exception.extras.headers,
      };
    }
    if (exception instanceof PexipError) {
      return { body: mapPexipError(exception) };
    }
    if (exception instanceof HttpException) {
      return { body: mapHttpException(exception) };
    }

    const httpError = asClientHttpError(exception);
    if (httpError) {
      return { body: problem(httpError.status, httpError.message) };
    }
    return {
      body: problem(500, 'The server failed to handle the request.'),
    };
  }
}

/** A failed terminus check: `{status: 'error', info, error, details}`. */
function isHealthReport(exception: unknown): exception is HttpException {
  if (!(exception instanceof HttpException)) return false;
  const answer = exception.getResponse();
  return (
    typeof answer === 'object' &&
    answer !== null &&
    (answer as { status?: unknown }).status === 'error' &&
    'details' in answer
  );
}

function problem(status: number, detail: string, type?: string) {
  return {
    type: type ?? typeForStatus(status),
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
  };
}

/** The failing checks of a health report, messages included, for the log. */
function failedChecks(report: HttpException): unknown {
  return (report.getResponse() as { error?: unknown }).error;
}

/** A health report whose checks keep everything but their `message`. */
function withoutMessages(report: HttpException): Record<string, unknown> {
  const answer = report.getResponse() as Record<string, unknown>;
  const strip = (checks: unknown) =>
    Object.fromEntries(
      Object.entries(
        (checks ?? {}) as Record<string, Record<string, unknown>>,
      ).map(([name, { message: _message, ...kept }]) => [name, kept]),
    );
  return {
    ...answer,
    info: strip(answer.info),
    error: strip(answer.error),
    details: strip(answer.details),
  };
}

/**
 * Pexip errors carry what went wrong between us and Pexip (its paths, its
 * error text, socket errors), which the log keeps; the caller learns what
 * happened and what to do, in our words. Only a refusal of the request
 * itself passes Pexip's field messages on, because the caller can fix it.
 */
function mapPexipError(error: PexipError): MappedProblem['body'] {
  if (error instanceof PexipRejectedError) {
    return {
      ...problem(400, error.message, ProblemType.pexipRejected),
      title: 'Rejected by Pexip',
      errors: error.fieldErrors,
    };
  }
  if (error instanceof PexipNotFoundError) {
    return problem(404, 'Pexip has nothing by that name.');
  }
  if (error instanceof PexipTimeoutError) {
    return {
      ...problem(
        504,
        'Pexip did not answer in time; try again shortly.',
        ProblemType.pexipTimeout,
      ),
      title: 'Pexip did not answer in time',
    };
  }
  return {
    ...problem(
      502,
      'Pexip could not be reached or did not give a usable answer; try again shortly.',
      ProblemType.pexipUnavailable,
    ),
    title: 'Pexip is unavailable',
  };
}

function mapHttpException(exception: HttpException): MappedProblem['body'] {
  const status = exception.getStatus();
  const answer = exception.getResponse();
  let detail = exception.message;
  if (typeof answer === 'object' && answer !== null && 'message' in answer) {
    const message = (answer as { message: unknown }).message;
    detail = Array.isArray(message) ? message.join('; ') : String(message);
  }
  // Messages of 5xx exceptions may describe internals; keep them in the log.
  if (status >= 500) {
    detail = STATUS_CODES[status] ?? 'Server error';
  }
  return problem(status, detail);
}

/**
 * Errors from Express middleware that carry a client status and a message
 * meant for the client (`expose`, as http-errors sets it). Body-parser
 * failures never get here: `bodyParsers` words them itself.
 */
function asClientHttpError(
  error: unknown,
): { status: number; message: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as {
    status?: unknown;
    statusCode?: unknown;
    expose?: unknown;
    message?: unknown;
  };
  const status = Number(candidate.status ?? candidate.statusCode);
  if (!(status >= 400 && status < 500) || candidate.expose !== true) {
    return undefined;
  }
  return { status, message: String(candidate.message ?? 'Bad request') };
}
