import { QUEUE_STORE, QueueStore } from '../../src/queue/queue.port';
import { Answer, basicHeader, bearerHeader } from '../support/http';
import { expectProblem, internalIn } from '../support/problem';
import {
  SecurityRig,
  SINK_PASSWORD,
  SINK_USER,
  startSecurityRig,
} from './support/security.rig';

/**
 * What every answer of the real service carries or leaves out: helmet's
 * security headers, a body size limit, problem answers for bodies that
 * cannot be read, and never a stack trace or internal message, even when
 * something inside the service breaks.
 */

const BODY_LIMIT = 2048;

let rig: SecurityRig;
let token: string;

beforeAll(async () => {
  rig = await startSecurityRig({
    env: { BODY_LIMIT_BYTES: String(BODY_LIMIT), PEXIP_TIMEOUT_MS: '300' },
  });
  token = await rig.token();
  await rig.pexip.seedRoom({ name: 'hardening-room' });
});

afterAll(async () => {
  await rig?.close();
});

function expectSecurityHeaders(answer: Answer): void {
  expect(Object.fromEntries(answer.headers)).toMatchObject({
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'SAMEORIGIN',
    'strict-transport-security': expect.stringMatching(/^max-age=\d+/),
    'cross-origin-opener-policy': 'same-origin',
    'referrer-policy': 'no-referrer',
  });
  expect(answer.headers.get('content-security-policy')).toEqual(
    expect.stringContaining("default-src 'self'"),
  );
  expect(answer.headers.get('content-security-policy')).toEqual(
    expect.stringContaining("script-src 'self'"),
  );
  expect(answer.headers.get('x-powered-by')).toBeNull();
}

describe('security headers', () => {
  const answers: [string, string, () => Record<string, string>, number][] = [
    ['GET', '/room/hardening-room', () => bearerHeader(token), 200],
    ['GET', '/room/no-such-room', () => bearerHeader(token), 404],
    ['GET', '/room/hardening-room', () => ({}), 401],
    ['GET', '/public/room/hardening-room', () => ({}), 401],
    ['POST', '/public/event_sink', () => ({}), 401],
    ['GET', '/public/health', () => ({}), 200],
    ['GET', '/metrics', () => ({}), 200],
    ['GET', '/docs', () => ({}), 200],
    ['GET', '/openapi.json', () => ({}), 200],
    ['GET', '/no/such/route', () => ({}), 404],
  ];

  it.each(answers)(
    '%s %s answers %#: nosniff, a CSP, no X-Powered-By',
    async (method, path, headers, status) => {
      const answer = await rig.send(method, path, { headers: headers() });

      expect(answer.status).toBe(status);
      expectSecurityHeaders(answer);
    },
  );

  it('carries them on answers refused before routing (413, 400 parse)', async () => {
    const tooLarge = await rig.send('PATCH', '/room/hardening-room', {
      headers: bearerHeader(token),
      body: { description: 'x'.repeat(BODY_LIMIT) },
    });
    const malformed = await rig.send('PATCH', '/room/hardening-room', {
      headers: bearerHeader(token),
      rawBody: '{"description": ',
    });

    expectSecurityHeaders(tooLarge);
    expectSecurityHeaders(malformed);
  });
});

describe('request bodies', () => {
  it(`refuses a body over BODY_LIMIT_BYTES (${BODY_LIMIT}) with 413 problem+json`, async () => {
    const answer = await rig.send('PATCH', '/room/hardening-room', {
      headers: bearerHeader(token),
      body: { description: 'x'.repeat(BODY_LIMIT) },
    });

    expectProblem(answer, 413);
    expect(answer.body).toMatchObject({
      type: 'urn:maxconf:problem:payload-too-large',
      detail: expect.stringMatching(/^The request body is /),
    });
  });

  it('refuses an oversized body before checking who sends it', async () => {
    const answer = await rig.send('POST', '/public/event_sink', {
      body: { event: 'x', data: 'y'.repeat(BODY_LIMIT) },
    });

    expectProblem(answer, 413);
  });

  it('accepts a body just under the limit', async () => {
    const description = 'x'.repeat(200);
    const answer = await rig.send('PATCH', '/room/hardening-room', {
      headers: bearerHeader(token),
      body: { description },
    });

    expect(answer.status).toBe(202);
    expect((await rig.pexip.findRoom('hardening-room'))?.description).toBe(
      description,
    );
  });

  it.each([
    ['PATCH', '/room/hardening-room', () => bearerHeader(token)],
    ['POST', '/public/event_sink', () => basicHeader(SINK_USER, SINK_PASSWORD)],
  ])(
    '%s %s: malformed JSON is 400 problem+json without the parser message',
    async (method, path, headers) => {
      const answer = await rig.send(method, path, {
        headers: headers(),
        rawBody: '{"description": "unterminated',
      });

      expectProblem(answer, 400);
      expect(answer.body.detail).toBe('The request body is not valid JSON.');
      expect(answer.text).not.toMatch(/unterminated|position|Unexpected/);
    },
  );

  it('never lets a __proto__ key in a body reach an object prototype', async () => {
    const before = await rig.pexip.findRoom('hardening-room');

    const answer = await rig.send('PATCH', '/room/hardening-room', {
      headers: bearerHeader(token),
      rawBody: '{"__proto__": {"pin": "1234", "admin": true}}',
    });

    expect(answer.status).toBeLessThan(500);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(await rig.pexip.findRoom('hardening-room')).toEqual(before);
  });
});

describe('no internals in error answers', () => {
  it('a URL that cannot be decoded is 400 problem+json', async () => {
    const answer = await rig.send('GET', '/room/%E0%A4%A', {
      headers: bearerHeader(token),
    });

    expectProblem(answer, 400);
  });

  it('a Pexip failure is 502 in our own words, without Pexip’s text', async () => {
    await rig.pexip.control.faults({ method: 'GET', status: 500, times: 5 });
    try {
      const answer = await rig.send('GET', '/room/hardening-room', {
        headers: bearerHeader(token),
      });

      expectProblem(answer, 502);
      expect(answer.body.detail).not.toMatch(/Sorry|could not be processed/);
      const logged = rig.service.logs.find(
        (line) =>
          line.context === 'ProblemDetailsFilter' &&
          (line.req as { id?: string })?.id === answer.body.request_id,
      );
      expect(String(logged?.msg)).toContain('Pexip answered 500');
    } finally {
      await rig.pexip.control.clearFaults();
    }
  });

  it('a Pexip timeout is 504 without the socket error', async () => {
    await rig.pexip.control.faults({ method: 'GET', hang: true, times: 5 });
    try {
      const answer = await rig.send('GET', '/room/hardening-room', {
        headers: bearerHeader(token),
      });

      expectProblem(answer, 504);
    } finally {
      await rig.pexip.control.clearFaults();
    }
  });

  it('a Pexip that drops the connection is 502 without the socket error', async () => {
    await rig.pexip.control.faults({ method: 'GET', reset: true, times: 5 });
    try {
      const answer = await rig.send('GET', '/room/hardening-room', {
        headers: bearerHeader(token),
      });

      expectProblem(answer, 502);
    } finally {
      await rig.pexip.control.clearFaults();
    }
  });

  it('readiness names the failing check but not its internal message', async () => {
    await rig.pexip.control.faults({ method: 'GET', reset: true, times: 5 });
    try {
      const answer = await rig.send('GET', '/public/health/ready');

      expect(answer.status).toBe(503);
      expect(answer.body).toEqual({
        status: 'error',
        info: { queue: { status: 'up' } },
        error: { pexip: { status: 'down' } },
        details: { pexip: { status: 'down' }, queue: { status: 'up' } },
      });
      const logged = rig.service.logs.filter(
        (line) =>
          line.context === 'ProblemDetailsFilter' &&
          (line.req as { url?: string })?.url === '/public/health/ready',
      );
      expect(logged.at(-1)).toMatchObject({
        level: 50,
        checks: { pexip: { status: 'down', message: expect.any(String) } },
      });
    } finally {
      await rig.pexip.control.clearFaults();
    }
  });

  it('an unexpected failure inside the service is 500 with a generic detail, logged in full', async () => {
    const store = rig.service.app.get<QueueStore>(QUEUE_STORE);
    await store.close();

    // Delete-all lists the rooms, then finds the pool queue gone.
    const answer = await rig.send('DELETE', '/room?confirm=true', {
      headers: bearerHeader(token),
    });

    expectProblem(answer, 500);
    expect(answer.body).toMatchObject({
      type: 'urn:maxconf:problem:internal',
      title: 'Internal Server Error',
      detail: 'The server failed to handle the request.',
    });
    const logged = rig.service.logs.find(
      (line) =>
        line.context === 'ProblemDetailsFilter' &&
        (line.req as { id?: string })?.id === answer.body.request_id,
    );
    expect(logged).toMatchObject({
      level: 50,
      err: { stack: expect.stringContaining('\n    at ') },
    });
    expect(internalIn(answer.text)).toBeUndefined();
    expect(answer.text).not.toContain(
      (logged!.err as { message: string }).message,
    );
  });
});
