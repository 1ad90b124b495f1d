import { HealthIndicatorService } from '@nestjs/terminus';
import { QUEUE_PING_TIMEOUT_MS, QueueHealthIndicator } from './queue.health';
import { QueueStore } from './queue.port';

describe('QueueHealthIndicator', () => {
  const withPing = (ping: () => Promise<void>) =>
    new QueueHealthIndicator(new HealthIndicatorService(), {
      ping,
    } as unknown as QueueStore);

  afterEach(() => jest.useRealTimers());

  it('reports up when the store answers the ping', async () => {
    const indicator = withPing(() => Promise.resolve());

    expect(await indicator.isHealthy('queue')).toEqual({
      queue: { status: 'up' },
    });
  });

  it('reports down with the cause when the ping fails', async () => {
    const indicator = withPing(() =>
      Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:10001')),
    );

    expect(await indicator.isHealthy('queue')).toEqual({
      queue: {
        status: 'down',
        message: 'connect ECONNREFUSED 127.0.0.1:10001',
      },
    });
  });

  it('reports down once the ping has hung for two seconds', async () => {
    jest.useFakeTimers();
    const indicator = withPing(() => new Promise<void>(() => undefined));

    const result = indicator.isHealthy('queue');
    await jest.advanceTimersByTimeAsync(QUEUE_PING_TIMEOUT_MS - 1);
    let settled = false;
    void result.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);

    expect(QUEUE_PING_TIMEOUT_MS).toBe(2_000);
    expect(await result).toEqual({
      queue: {
        status: 'down',
        message: 'the queue store did not answer within 2000 ms',
      },
    });
  });
});
