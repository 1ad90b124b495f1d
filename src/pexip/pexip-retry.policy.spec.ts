import { AxiosError, AxiosHeaders, AxiosResponse } from 'axios';
import {
  backoffDelayMs,
  callBudgetMs,
  isTimeout,
  isTransientFailure,
  parseRetryAfterMs,
} from './pexip-retry.policy';

const NOW = Date.parse('2025-01-01T12:00:00Z');

function answered(status: number): AxiosError {
  const response = {
    status,
    statusText: '',
    headers: {},
    config: { headers: new AxiosHeaders() },
    data: '',
  } as AxiosResponse;
  return new AxiosError('failed', 'ERR_BAD_RESPONSE', undefined, {}, response);
}

describe('backoffDelayMs', () => {
  it('waits between half and all of 100 ms before the first retry', () => {
    expect(backoffDelayMs(1, undefined, NOW, () => 0)).toBe(50);
    expect(backoffDelayMs(1, undefined, NOW, () => 1)).toBe(100);
  });

  it('doubles the step with each retry', () => {
    expect(backoffDelayMs(2, undefined, NOW, () => 1)).toBe(200);
    expect(backoffDelayMs(3, undefined, NOW, () => 1)).toBe(400);
  });

  it('never picks more than 2 s by itself', () => {
    expect(backoffDelayMs(10, undefined, NOW, () => 1)).toBe(2000);
  });

  it('waits at least as long as Retry-After in seconds asks', () => {
    expect(backoffDelayMs(1, '3', NOW, () => 1)).toBe(3000);
  });

  it('waits until a Retry-After HTTP date', () => {
    const inFourSeconds = new Date(NOW + 4000).toUTCString();

    expect(backoffDelayMs(1, inFourSeconds, NOW, () => 0)).toBe(4000);
  });

  it('shortens a Retry-After longer than 10 s to 10 s', () => {
    expect(backoffDelayMs(1, '3600', NOW, () => 0)).toBe(10_000);
  });

  it('keeps its own step when Retry-After asks for less', () => {
    expect(backoffDelayMs(5, '0', NOW, () => 1)).toBe(1600);
  });
});

describe('parseRetryAfterMs', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfterMs('2', NOW)).toBe(2000);
  });

  it('reads an HTTP date, and a date in the past as no wait', () => {
    expect(parseRetryAfterMs(new Date(NOW + 1500).toUTCString(), NOW)).toBe(
      1000, // HTTP dates have whole seconds
    );
    expect(parseRetryAfterMs(new Date(NOW - 5000).toUTCString(), NOW)).toBe(0);
  });

  it('ignores a missing or unreadable value', () => {
    expect(parseRetryAfterMs(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfterMs('soon', NOW)).toBeUndefined();
    expect(parseRetryAfterMs('-1', NOW)).toBeUndefined();
  });
});

describe('callBudgetMs', () => {
  it('gives a call one and a half timeouts in all', () => {
    expect(callBudgetMs(10_000)).toBe(15_000);
  });
});

describe('isTransientFailure', () => {
  it.each([429, 502, 503, 504])('retries an answer of %i', (status) => {
    expect(isTransientFailure(answered(status))).toBe(true);
  });

  it.each([400, 401, 403, 404, 500, 501])(
    'does not retry an answer of %i',
    (status) => {
      expect(isTransientFailure(answered(status))).toBe(false);
    },
  );

  it.each(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED'])(
    'retries the socket error %s',
    (code) => {
      expect(isTransientFailure(new AxiosError('failed', code))).toBe(true);
    },
  );

  it('does not retry a host name that does not resolve', () => {
    expect(isTransientFailure(new AxiosError('failed', 'ENOTFOUND'))).toBe(
      false,
    );
  });

  it('does not retry something that is not an HTTP failure', () => {
    expect(isTransientFailure(new Error('bug'))).toBe(false);
  });
});

describe('isTimeout', () => {
  it('recognises axios timeouts under both codes', () => {
    expect(isTimeout(new AxiosError('timeout', 'ETIMEDOUT'))).toBe(true);
    expect(isTimeout(new AxiosError('timeout', 'ECONNABORTED'))).toBe(true);
  });

  it('does not take a reset connection for a timeout', () => {
    expect(isTimeout(new AxiosError('reset', 'ECONNRESET'))).toBe(false);
  });
});
