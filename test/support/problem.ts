import type { Answer } from './http';

/** The members every error answer carries; `errors` may come on top. */
export const PROBLEM_KEYS = ['detail', 'request_id', 'status', 'title', 'type'];

/**
 * Marks of an internal leaking into an answer: a stack frame, a source
 * path, a library or a runtime error name.
 */
const INTERNALS: readonly RegExp[] = [
  /\bat [^\s()]+ \(/,
  /\bat (?:async )?\/[^\s]+:\d+:\d+/,
  /\.(?:ts|js):\d+/,
  /node_modules/,
  /\/work\//,
  /\bstack\b/i,
  /\b(?:TypeError|ReferenceError|RangeError|SyntaxError|SqliteError)\b/,
  /\bAxiosError\b/,
  /\b(?:ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE)\b/,
  // Pexip's own API paths: the caller has no business with them.
  /\/api\/admin\//,
];

/** The first internal found in `text`, or undefined. */
export function internalIn(text: string): string | undefined {
  for (const pattern of INTERNALS) {
    const match = pattern.exec(text);
    if (match) return match[0];
  }
  return undefined;
}

/**
 * Asserts an RFC 9457 answer with this status: `application/problem+json`,
 * the status repeated in the body, a non-empty detail, the request id of
 * the `X-Request-Id` header, exactly the documented members (`errors`
 * optional), and no stack trace or other internal.
 *
 * @example expectProblem(await rig.create('zz'), 400);
 */
export function expectProblem(answer: Answer, status: number): void {
  expect({
    status: answer.status,
    contentType: answer.headers.get('content-type'),
  }).toEqual({ status, contentType: 'application/problem+json' });
  expect(answer.body).toEqual(
    expect.objectContaining({
      type: expect.any(String),
      title: expect.any(String),
      status,
      detail: expect.any(String),
      request_id: expect.any(String),
    }),
  );
  expect(answer.body.detail).not.toBe('');
  const keys = Object.keys(answer.body).filter((key) => key !== 'errors');
  expect(keys.sort()).toEqual(PROBLEM_KEYS);
  expect(answer.body.request_id).toBe(answer.headers.get('x-request-id'));
  expect(internalIn(answer.text)).toBeUndefined();
}
