import { request as httpRequest } from 'node:http';
import { startTestSimulator, TestSimulator } from '../support/simulator';
import { startService, TestService } from '../support/service';

/**
 * What the service does with bodies and requests it cannot or must not
 * read: they are refused with a problem answer, and nothing reaches Pexip.
 */

let pexip: TestSimulator;
let service: TestService;
let roomName: string;

beforeAll(async () => {
  pexip = await startTestSimulator();
  service = await startService({ PEXIP_URL: pexip.url });
  roomName = (await pexip.seedRoom({ pin: '123456', guest_pin: '4321' })).name;
});

afterAll(async () => {
  await service?.close();
  await pexip?.close();
});

beforeEach(() => pexip.control.clearRequests());

async function patch(body: string, contentType?: string) {
  const response = await fetch(`${service.url}/room/${roomName}`, {
    method: 'PATCH',
    headers: contentType ? { 'Content-Type': contentType } : {},
    body,
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

async function pexipWrites(): Promise<string[]> {
  return (await pexip.control.requests())
    .filter((r) => r.method !== 'GET')
    .map((r) => `${r.method} ${r.path}`);
}

describe('request bodies', () => {
  it.each([
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/octet-stream',
  ])(
    'refuses a PATCH sent as %s with 415 instead of ignoring it',
    async (contentType) => {
      const answer = await patch('{"pin":"999999"}', contentType);

      expect(answer.status).toBe(415);
      expect(answer.type).toBe('application/problem+json');
      expect(answer.body.type).toBe(
        'urn:maxconf:problem:unsupported-media-type',
      );
      expect(await pexipWrites()).toEqual([]);
      expect((await pexip.findRoom(roomName))?.pin).toBe('123456');
    },
  );

  it('reads a PATCH sent as application/merge-patch+json', async () => {
    const answer = await fetch(`${service.url}/room/${roomName}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: '{"description":"merged"}',
    });

    expect(answer.status).toBe(202);
    expect((await pexip.findRoom(roomName))?.description).toBe('merged');
  });

  it('refuses a body nested thousands of levels deep with 400, not a crash', async () => {
    const deep = `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`;

    const answer = await patch(`{"description":${deep}}`, 'application/json');

    expect(answer.status).toBe(400);
    expect(answer.body.detail).toBe(
      'The request body nests deeper than 32 levels.',
    );
    expect(await pexipWrites()).toEqual([]);
  });

  it.each(['__proto__', 'constructor', 'prototype'])(
    'refuses a PATCH with the key %s, and sends nothing to Pexip',
    async (key) => {
      const answer = await patch(
        `{"${key}":{"polluted":true},"description":"x"}`,
        'application/json',
      );

      expect(answer.status).toBe(400);
      expect(answer.body.errors).toEqual({
        [key]: [`property ${key} should not exist`],
      });
      expect(await pexipWrites()).toEqual([]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it('gives each invalid field one message, the first rule it breaks', async () => {
    const answer = await patch(
      '{"participant_limit":"five"}',
      'application/json',
    );

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual({
      participant_limit: [expect.any(String)],
    });
  });
});

describe('query values read strictly', () => {
  it.each(['0x10', '1e1', ' 1', '-1', '2.5', ''])(
    'refuses bulk-create count=%p with 400 and creates nothing',
    async (count) => {
      const answer = await fetch(
        `${service.url}/room/bulk-create?count=${encodeURIComponent(count)}`,
        { method: 'POST' },
      );

      expect(answer.status).toBe(400);
      expect(await pexipWrites()).toEqual([]);
    },
  );
});

describe('requests refused by the HTTP parser', () => {
  it('answers headers that are too large with a 431 problem', async () => {
    const answer = await new Promise<{
      status?: number;
      type?: string;
      body: string;
    }>((resolve, reject) => {
      const request = httpRequest(`${service.url}/public/health`, {
        headers: { 'X-Padding': 'x'.repeat(20_000) },
      });
      request.on('response', (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode,
            type: response.headers['content-type'],
            body,
          }),
        );
      });
      request.on('error', reject);
      request.end();
    });

    expect(answer.status).toBe(431);
    expect(answer.type).toBe('application/problem+json');
    expect(JSON.parse(answer.body)).toMatchObject({
      status: 431,
      detail: 'The request headers are too large.',
    });
  });
});
