import { ThrottlerStorageService } from '@nestjs/throttler';
import fc from 'fast-check';
import { HitWindowThrottlerStorage } from './hit-window.throttler-storage';

const TTL = 60_000;

let clock: number;
let storages: { onApplicationShutdown(): void }[];

beforeEach(() => {
  clock = Date.UTC(2026, 0, 1);
  jest.spyOn(Date, 'now').mockImplementation(() => clock);
  storages = [];
});

afterEach(() => {
  for (const storage of storages) storage.onApplicationShutdown();
  jest.restoreAllMocks();
});

function ours(): HitWindowThrottlerStorage {
  const storage = new HitWindowThrottlerStorage();
  storages.push(storage);
  return storage;
}

function builtIn(): ThrottlerStorageService {
  const storage = new ThrottlerStorageService();
  storages.push(storage);
  return storage;
}

describe('HitWindowThrottlerStorage', () => {
  it('answers every hit exactly as the built-in storage does', async () => {
    const hit = fc.record({
      afterMs: fc.oneof(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 2 * TTL }),
      ),
      client: fc.constantFrom('a', 'b'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(0, 10_000, TTL),
        fc.array(hit, { maxLength: 60 }),
        async (limit, blockDuration, hits) => {
          const expected = builtIn();
          const actual = ours();
          for (const { afterMs, client } of hits) {
            clock += afterMs;
            const args = [
              client,
              TTL,
              limit,
              blockDuration,
              'default',
            ] as const;
            expect(await actual.increment(...args)).toEqual(
              await expected.increment(...args),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('blocks a client over the limit for blockDuration, then counts afresh', async () => {
    const storage = ours();
    const hit = () => storage.increment('a', TTL, 2, 10_000, 'default');

    await hit();
    await hit();
    const third = await hit();
    clock += 9_000;
    const duringBlock = await hit();
    clock += 1_000;
    const afterBlock = await hit();

    expect(third).toEqual({
      totalHits: 3,
      timeToExpire: 60,
      isBlocked: true,
      timeToBlockExpire: 10,
    });
    expect(duringBlock.isBlocked).toBe(true);
    expect(duringBlock.timeToBlockExpire).toBe(1);
    expect(afterBlock).toEqual({
      totalHits: 1,
      timeToExpire: 50,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('counts 200,000 hits in one window for one client and lets them expire', async () => {
    const storage = ours();
    const limit = 1_000_000;

    let last;
    for (let n = 0; n < 200_000; n++) {
      last = await storage.increment('a', TTL, limit, 0, 'default');
    }
    clock += TTL;
    const afterWindow = await storage.increment('a', TTL, limit, 0, 'default');

    expect(last).toEqual({
      totalHits: 200_000,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
    expect(afterWindow.totalHits).toBe(1);
  });

  it('forgets a client once nothing of it is left to count', async () => {
    const storage = ours();
    await storage.increment('a', TTL, 5, TTL, 'default');
    await storage.increment('b', TTL, 5, TTL, 'default');
    clock += TTL / 2;
    await storage.increment('b', TTL, 5, TTL, 'default');

    clock += TTL / 2;
    storage.sweep();

    // "b" is kept: its second hit still counts.
    expect(storage.size).toBe(1);
    expect(
      (await storage.increment('b', TTL, 5, TTL, 'default')).totalHits,
    ).toBe(2);
  });
});
