import type { OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';

type ThrottlerStorageRecord = Awaited<
  ReturnType<ThrottlerStorage['increment']>
>;

/** When each hit still in the window leaves it, oldest first. */
class HitWindow {
  private expiries: number[] = [];
  private head = 0;

  get count(): number {
    return this.expiries.length - this.head;
  }

  /** The expiry of the oldest hit still counted, if any. */
  get oldest(): number | undefined {
    return this.count > 0 ? this.expiries[this.head] : undefined;
  }

  add(expiresAt: number): void {
    this.expiries.push(expiresAt);
  }

  /** Forgets the hits whose expiry has passed. */
  prune(now: number): void {
    // Hits are added with one fixed ttl, so expiries come in the order
    // they were added: the expired ones are all at the front.
    while (
      this.head < this.expiries.length &&
      this.expiries[this.head] <= now
    ) {
      this.head += 1;
    }

    // Drop the forgotten front now and then, not on every hit.
    if (this.head > 1024 && this.head * 2 > this.expiries.length) {
      this.expiries = this.expiries.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.expiries = [];
    this.head = 0;
  }
}

interface ClientRecord {
  readonly windows: Map<string, HitWindow>;
  expiresAt: number;
  blockExpiresAt: number;
  isBlocked: boolean;
}

/** How often clients with nothing left to count are forgotten. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * The rate limiter's in-memory storage, answering exactly as
 * @nestjs/throttler's own: a sliding window that counts every hit of the
 * last `ttl` milliseconds, and a block of `blockDuration` once a client
 * goes over the limit. Its cost per request does not grow with the
 * client's rate: the built-in storage filters the list of every hit in
 * the window on each request (a client allowed 10,000 a minute makes it
 * walk 10,000 timestamps per request), this one only drops the expired
 * hits from the front of the list.
 *
 * @example ThrottlerModule.forRoot({ throttlers, storage: new HitWindowThrottlerStorage() })
 */
export class HitWindowThrottlerStorage
  implements ThrottlerStorage, OnApplicationShutdown
{
  private readonly clients = new Map<string, ClientRecord>();
  private sweepTimer?: NodeJS.Timeout;

  /** How many clients are remembered. */
  get size(): number {
    return this.clients.size;
  }

  /**
   * Counts one hit of `key` for `throttlerName`, unless it is blocked.
   *
   * @param ttl window length in milliseconds.
   * @param blockDuration milliseconds a client stays blocked once over
   *   the limit; 0 or less: never blocked, only refused while over it.
   */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    this.startSweep();
    const now = Date.now();
    const client = this.clientOf(key, ttl, now);
    const hits = this.windowOf(client, throttlerName);
    hits.prune(now);

    if (client.expiresAt <= now) {
      client.expiresAt = now + ttl;
    }
    const timeToExpire = secondsUntil(client.expiresAt, now);

    if (blockDuration <= 0) {
      const isBlocked = hits.count >= limit;
      if (!isBlocked) hits.add(now + ttl);
      return {
        totalHits: hits.count + (isBlocked ? 1 : 0),
        timeToExpire,
        isBlocked,
        timeToBlockExpire: isBlocked
          ? secondsUntil(hits.oldest ?? now, now)
          : 0,
      };
    }

    if (!client.isBlocked) hits.add(now + ttl);
    if (hits.count > limit && !client.isBlocked) {
      client.isBlocked = true;
      client.blockExpiresAt = now + blockDuration;
    }

    const timeToBlockExpire = secondsUntil(client.blockExpiresAt, now);
    if (timeToBlockExpire <= 0 && client.isBlocked) {
      // The block is over: start counting again from this hit.
      client.isBlocked = false;
      hits.clear();
      hits.add(now + ttl);
    }
    return {
      totalHits: hits.count,
      timeToExpire,
      isBlocked: client.isBlocked,
      timeToBlockExpire,
    };
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.clients.clear();
  }

  /** Forgets clients neither blocked nor with a hit in their window. */
  sweep(now = Date.now()): void {
    for (const [key, client] of this.clients) {
      if (client.isBlocked && client.blockExpiresAt > now) continue;
      if (client.expiresAt > now) continue;

      let live = false;
      for (const hits of client.windows.values()) {
        hits.prune(now);
        live ||= hits.count > 0;
      }
      if (!live) this.clients.delete(key);
    }
  }

  private startSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  private clientOf(key: string, ttl: number, now: number): ClientRecord {
    let client = this.clients.get(key);
    if (!client) {
      client = {
        windows: new Map(),
        expiresAt: now + ttl,
        blockExpiresAt: 0,
        isBlocked: false,
      };
      this.clients.set(key, client);
    }
    return client;
  }

  private windowOf(client: ClientRecord, throttlerName: string): HitWindow {
    let hits = client.windows.get(throttlerName);
    if (!hits) {
      hits = new HitWindow();
      client.windows.set(throttlerName, hits);
    }
    return hits;
  }
}

/** Whole seconds from `now` to `at`, rounded up, as the throttler counts. */
function secondsUntil(at: number, now: number): number {
  return Math.ceil((at - now) / 1000);
}
