import type { Answer } from './http-client';

/** The members an error answer may carry, and no other. */
const PROBLEM_MEMBERS = [
  'detail',
  'errors',
  'request_id',
  'status',
  'title',
  'type',
];

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
 * Asserts an RFC 9457 answer with this status: problem+json, the status
 * repeated in the body, a request id, only the documented members, and no
 * stack trace or internal detail.
 */
export function expectProblem(answer: Answer, status: number): void {
  expect({
    status: answer.status,
    contentType: answer.headers['content-type'],
  }).toEqual({ status, contentType: 'application/problem+json' });
  expect(answer.body).toMatchObject({
    status,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
    request_id: expect.any(String),
  });
  expect(answer.body.request_id).toBe(answer.headers['x-request-id']);
  for (const member of Object.keys(answer.body)) {
    expect(PROBLEM_MEMBERS).toContain(member);
  }
  expect(internalIn(answer.text)).toBeUndefined();
}
