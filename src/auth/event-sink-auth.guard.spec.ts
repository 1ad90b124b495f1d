import { ExecutionContext } from '@nestjs/common';
import { ProblemException } from '../common/problem';
import { loadConfig } from '../config/app-config';
import {
  EventSinkAuthGuard,
  readBasicCredentials,
  secretsEqual,
} from './event-sink-auth.guard';

const basic = (text: string) =>
  `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

describe('readBasicCredentials', () => {
  it.each([
    [basic('pexip:secret'), 'pexip', 'secret'],
    [basic('pexip:se:cr:et'), 'pexip', 'se:cr:et'],
    [basic('pexip:'), 'pexip', ''],
    [basic('jürgen:pässword'), 'jürgen', 'pässword'],
    [`basic ${Buffer.from('a:b').toString('base64')}`, 'a', 'b'],
    ['Basic YTpi', 'a', 'b'],
  ])('reads %j', (header, username, password) => {
    expect(readBasicCredentials(header)).toEqual({ username, password });
  });

  it.each([
    undefined,
    '',
    'Basic',
    'Basic %%%',
    'Basic YTpi=',
    'Basic Y',
    basic('no-colon'),
    'Bearer YTpi',
  ])('refuses %j', (header) => {
    expect(readBasicCredentials(header)).toBeUndefined();
  });
});

describe('secretsEqual', () => {
  it.each([
    ['secret', 'secret', true],
    ['secret', 'Secret', false],
    ['secret', 'secret-but-longer', false],
    ['', '', true],
  ])('compares %j with %j as %s', (given, expected, equal) => {
    expect(secretsEqual(given, expected)).toBe(equal);
  });
});

describe('EventSinkAuthGuard', () => {
  const contextWith = (authorization: string | undefined) =>
    ({
      switchToHttp: () => ({
        getRequest: () => ({ headers: { authorization }, ip: '127.0.0.1' }),
      }),
    }) as unknown as ExecutionContext;

  it('refuses every call when no credentials are configured', () => {
    const guard = new EventSinkAuthGuard(loadConfig({ NODE_ENV: 'test' }));

    const refusal = (() => {
      try {
        guard.canActivate(contextWith(basic(':')));
      } catch (error) {
        return error as ProblemException;
      }
    })();

    expect(refusal).toBeInstanceOf(ProblemException);
    expect(refusal?.getStatus()).toBe(401);
    expect(refusal?.extras.headers).toEqual({
      'WWW-Authenticate': 'Basic realm="maxconf-event-sink", charset="UTF-8"',
    });
  });

  it('lets the configured credentials in', () => {
    const guard = new EventSinkAuthGuard(
      loadConfig({
        NODE_ENV: 'test',
        EVENT_SINK_USERNAME: 'pexip',
        EVENT_SINK_PASSWORD: 'secret',
      }),
    );

    expect(guard.canActivate(contextWith(basic('pexip:secret')))).toBe(true);
  });

  describe('after RATE_LIMIT_PER_MINUTE refusals from one address', () => {
    const guard = () =>
      new EventSinkAuthGuard(
        loadConfig({
          NODE_ENV: 'test',
          EVENT_SINK_USERNAME: 'pexip',
          EVENT_SINK_PASSWORD: 'secret',
          RATE_LIMIT_PER_MINUTE: '3',
        }),
      );
    const statusOf = (check: () => unknown) => {
      try {
        check();
        return 200;
      } catch (error) {
        return (error as ProblemException).getStatus();
      }
    };

    beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
    afterEach(() => jest.useRealTimers());

    it('answers 429 with Retry-After, before checking, until the minute is over', () => {
      const sink = guard();
      const wrong = contextWith(basic('pexip:guess'));
      const right = contextWith(basic('pexip:secret'));
      for (let i = 0; i < 3; i++) {
        expect(statusOf(() => sink.canActivate(wrong))).toBe(401);
      }

      jest.advanceTimersByTime(20_000);
      let refusal: ProblemException | undefined;
      try {
        sink.canActivate(right);
      } catch (error) {
        refusal = error as ProblemException;
      }

      expect(refusal?.getStatus()).toBe(429);
      expect(refusal?.extras.headers).toEqual({ 'Retry-After': '40' });
      jest.advanceTimersByTime(40_000);
      expect(sink.canActivate(right)).toBe(true);
    });

    it('never counts accepted calls', () => {
      const sink = guard();
      const right = contextWith(basic('pexip:secret'));

      for (let i = 0; i < 10; i++) {
        expect(sink.canActivate(right)).toBe(true);
      }
    });
  });
});
