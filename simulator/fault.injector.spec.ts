import { z } from 'zod';

import { describeIssues, faultSchema } from './control.schemas';
import { FaultInjector } from './fault.injector';

const CONFERENCES = '/api/admin/configuration/v1/conference/';

describe('FaultInjector', () => {
  let faults: FaultInjector;
  const add = (spec: object) => faults.add(faultSchema.parse(spec));

  beforeEach(() => {
    faults = new FaultInjector();
  });

  it('fails the next `times` matching requests, then none', () => {
    add({ method: 'post', path_prefix: CONFERENCES, status: 503, times: 2 });

    const taken = [1, 2, 3].map(() => faults.take('POST', CONFERENCES));

    expect(taken.map((fault) => fault?.status)).toEqual([503, 503, undefined]);
    expect(faults.list()).toEqual([]);
  });

  it('ignores requests with another method or path', () => {
    add({ method: 'PATCH', path_prefix: `${CONFERENCES}1/`, status: 500 });

    expect(faults.take('GET', `${CONFERENCES}1/`)).toBeUndefined();
    expect(faults.take('PATCH', `${CONFERENCES}2/`)).toBeUndefined();
    expect(faults.take('PATCH', `${CONFERENCES}1/`)?.status).toBe(500);
  });

  it('matches the prefix against the path with its query', () => {
    add({ path_prefix: `${CONFERENCES}?name=`, status: 429 });

    expect(faults.take('GET', `${CONFERENCES}?limit=5`)).toBeUndefined();
    expect(faults.take('GET', `${CONFERENCES}?name=x`)?.status).toBe(429);
  });

  it('matches any request when method and prefix are left out', () => {
    add({ status: 502 });

    expect(faults.take('DELETE', '/oauth/token/')?.status).toBe(502);
  });

  it('uses the oldest matching fault first', () => {
    add({ status: 429 });
    add({ status: 500 });

    expect(faults.take('GET', '/')?.status).toBe(429);
    expect(faults.take('GET', '/')?.status).toBe(500);
  });

  it('forgets every fault on clear()', () => {
    add({ status: 500, times: 5 });

    faults.clear();

    expect(faults.take('GET', '/')).toBeUndefined();
  });
});

describe('fault bodies', () => {
  it('fills the defaults', () => {
    expect(faultSchema.parse({ status: 500 })).toEqual({
      status: 500,
      times: 1,
      after_commit: false,
      hang: false,
      reset: false,
    });
  });

  it.each([
    [{}, 'status: "status" is required unless "hang" or "reset" is true'],
    [{ status: 500, times: 0 }, 'times: Too small: expected number to be >=1'],
    [
      { status: '500' },
      'status: Invalid input: expected number, received string',
    ],
    [{ status: 500, pathPrefix: '/x' }, 'Unrecognized key: "pathPrefix"'],
    [{ hang: true, reset: true }, '"hang" and "reset" cannot both be true'],
    [
      { status: 500, path_prefix: 'api' },
      'path_prefix: Invalid string: must start with "/"',
    ],
  ])('refuses %j', (body, message) => {
    const result = faultSchema.safeParse(body);

    expect(result.success).toBe(false);
    expect(describeIssues(result.error as z.ZodError)).toBe(message);
  });
});
