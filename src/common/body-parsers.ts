import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json, urlencoded } from 'express';
import { ProblemException, ProblemType } from './problem';

/**
 * JSON and form body parsers whose failures become problem answers with
 * fixed wording. The parser's own message quotes fragments of the body,
 * which may hold a PIN or a password; it is never echoed back.
 */
export function bodyParsers(limitBytes: number): RequestHandler[] {
  return [
    json({ limit: limitBytes }),
    urlencoded({ limit: limitBytes, extended: false }),
  ].map(
    (parse) => (request: Request, response: Response, next: NextFunction) =>
      parse(request, response, (error?: unknown) =>
        next(error ? asProblem(error, limitBytes) : undefined),
      ),
  );
}

function asProblem(error: unknown, limitBytes: number): unknown {
  const type = (error as { type?: unknown }).type;
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
    );
  }
  return error;
}
