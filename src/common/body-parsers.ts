import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json } from 'express';
import { ProblemException, ProblemType } from './problem';

/**
 * Deepest nesting a JSON body may have. The API's bodies are flat objects
 * (Pexip's event-sink messages nest three levels); a body thousands of
 * levels deep is an attack on recursive code, not a request.
 */
export const MAX_BODY_DEPTH = 32;

/** Media types read as JSON: `application/json` and any `+json` type. */
const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * The request body handling of every route, as Express middleware:
 *
 * - JSON bodies are parsed up to `limitBytes`; larger ones get 413.
 * - A body of any other media type gets 415 before it is read, rather
 *   than being ignored: a PATCH sent as text/plain would otherwise change
 *   nothing and still answer 202.
 * - Failures answer with fixed wording: the parser's own message quotes
 *   fragments of the body, which may hold a PIN or a password.
 */
export function bodyParsers(limitBytes: number): RequestHandler[] {
  const parse = json({ limit: limitBytes, type: JSON_TYPES });

  const parseJson: RequestHandler = (request, response, next) =>
    parse(request, response, (error?: unknown) => {
      if (error) return next(asProblem(error, limitBytes));
      if (nestingDeeperThan(request.body, MAX_BODY_DEPTH)) {
        return next(
          new ProblemException(
            400,
            'Invalid request',
            `The request body nests deeper than ${MAX_BODY_DEPTH} levels.`,
            { type: ProblemType.validation },
          ),
        );
      }
      next();
    });

  const refuseOtherBodies = (
    request: Request,
    _response: Response,
    next: NextFunction,
  ) => {
    if (hasBody(request) && !request.is(JSON_TYPES)) {
      return next(
        new ProblemException(
          415,
          'Unsupported Media Type',
          'Send the request body as application/json.',
          { type: ProblemType.unsupportedMediaType },
        ),
      );
    }
    next();
  };

  return [parseJson, refuseOtherBodies];
}

/** True when the request carries a body, whatever its length header says. */
function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  if (request.headers['transfer-encoding'] !== undefined) return true;
  return length !== undefined && length !== '0';
}

/** Walks the value without recursion, so depth itself cannot hurt it. */
function nestingDeeperThan(value: unknown, limit: number): boolean {
  const stack: { item: unknown; depth: number }[] = [{ item: value, depth: 0 }];
  while (stack.length > 0) {
    const { item, depth } = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(item)) {
      stack.push({ item: child, depth: depth + 1 });
    }
  }
  return false;
}

function asProblem(error: unknown, limitBytes: number): unknown {
  const { type, status } = error as { type?: unknown; status?: unknown };
  if (type === 'entity.too.large') {
    return new ProblemException(
      413,
      'Payload Too Large',
      `The request body is larger than ${limitBytes} bytes.`,
      { type: ProblemType.payloadTooLarge },
    );
  }
  if (type === 'entity.parse.failed') {
    return new ProblemException(
      400,
      'Invalid JSON',
      'The request body is not valid JSON.',
      { type: ProblemType.validation },
    );
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new ProblemException(
      415,
      'Unsupported Media Type',
      'The request body uses an encoding or charset this service does not read.',
      { type: ProblemType.unsupportedMediaType },
    );
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Bad gzip data, a body shorter than its length header, and the like.
    return new ProblemException(
      status,
      'Unreadable request body',
      'The request body could not be read.',
      { type: ProblemType.validation },
    );
  }
  return error;
}
