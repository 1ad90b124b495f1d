import { Injectable, Logger } from '@nestjs/common';
import pLimit from 'p-limit';
import { AppConfig } from '../config/app-config';
import { ProblemException, ProblemType } from '../common/problem';
import { MetricsService } from '../metrics/metrics.service';
import {
  PexipNotFoundError,
  PexipUnavailableError,
} from '../pexip/pexip.errors';
import { PexipService } from '../pexip/pexip.service';
import type {
  PexipConference,
  PexipConferencePatch,
} from '../pexip/pexip.types';
import { PoolLease, PoolService } from '../pool/pool.service';
import { RoomFactory } from '../pool/room-factory.service';
import type { UpdateRoomRequestDto } from './dto/update-room.request.dto';
import { parseUuiData, tagForUui, UuiDataError } from './uui-data';

/** A room as Pexip holds it; the controllers choose how much to show. */
export type Room = PexipConference;

export interface RoomFilter {
  readonly namePrefix?: string;
  readonly tag?: string;
}

/**
 * Pool rooms tried per create before falling back to a room made on the
 * spot; more than a couple in a row means the pool is broken, not unlucky.
 */
const MAX_POOL_ROOMS_TRIED = 5;

/**
 * What the API does with rooms: hand one out for an identity check, read,
 * change and delete them. Pexip is reached only through the adapter.
 */
@Injectable()
export class RoomService {
  private readonly logger = new Logger(RoomService.name);
  /** Creates in progress by tag, so a quick retry joins the first call. */
  private readonly handOuts = new Map<string, Promise<Room>>();

  constructor(
    private readonly config: AppConfig,
    private readonly pexip: PexipService,
    private readonly pool: PoolService,
    private readonly factory: RoomFactory,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Gives the identity check its room. Idempotent by tag: when a room
   * already carries the tag built from `uuiData`, that room is the answer
   * and no pool room is spent.
   *
   * @throws ProblemException 400 for a bad `uuiData`.
   * @throws PexipError when Pexip fails; a pool room taken is put back.
   */
  async create(uuiData: string): Promise<Room> {
    const tag = this.tagFor(uuiData);

    const running = this.handOuts.get(tag);
    if (running) return running;

    const handOut = this.handOut(tag).finally(() => this.handOuts.delete(tag));
    this.handOuts.set(tag, handOut);
    return handOut;
  }

  /**
   * @throws ProblemException 404 when no room has that name.
   */
  async get(name: string): Promise<Room> {
    const room = await this.pexip.findConferenceByName(name);
    if (!room) throw roomNotFound(name);
    return room;
  }

  /**
   * Every room matching the filter, a page at a time, following Pexip's
   * pagination to the end so that the caller can stream the answer.
   */
  list(filter: RoomFilter): AsyncGenerator<Room[]> {
    return this.pexip.listConferencePages({
      namePrefix: filter.namePrefix,
      tag: filter.tag,
    });
  }

  /**
   * @throws ProblemException 404 when no room has that name.
   * @throws PexipRejectedError when Pexip refuses the change (400).
   */
  async update(name: string, changes: UpdateRoomRequestDto): Promise<void> {
    // The validated body declares every field it may carry; only those the
    // caller sent (null included) are changes, and only they are logged.
    const patch: PexipConferencePatch = Object.fromEntries(
      Object.entries(changes).filter(([, value]) => value !== undefined),
    );

    const room = await this.get(name);
    try {
      await this.pexip.updateConference(room.id, patch);
    } catch (error) {
      if (error instanceof PexipNotFoundError) throw roomNotFound(name);
      throw error;
    }
    this.logger.log({ room: name, fields: Object.keys(patch) }, 'room updated');
  }

  /**
   * @throws ProblemException 404 when no room has that name.
   */
  async delete(name: string): Promise<void> {
    const room = await this.get(name);
    await this.pexip.deleteConference(room.id);
    this.metrics.roomsDeleted.inc({ reason: 'api' });
    this.logger.log({ room: name, id: room.id }, 'room deleted');
  }

  /**
   * Deletes every room except persistent ones, and empties the pool.
   * Rooms are listed in full before the first delete: deleting while
   * paging by offset would shift later pages and skip rooms.
   *
   * @throws PexipError when the list cannot be read; nothing is changed.
   */
  async deleteAll(): Promise<{ deleted: number; failed: string[] }> {
    const doomed: { id: number; name: string }[] = [];
    for await (const page of this.pexip.listConferencePages({})) {
      for (const room of page) {
        if (!this.isPersistent(room.name)) {
          doomed.push({ id: room.id, name: room.name });
        }
      }
    }

    // Emptied only once the list is in hand: if Pexip cannot be listed,
    // nothing has changed and the pool still knows its rooms.
    await this.pool.clear();

    const limit = pLimit(this.config.pexip.maxConcurrency);
    const failed: string[] = [];
    let deleted = 0;
    await Promise.all(
      doomed.map((room) =>
        limit(async () => {
          try {
            if (await this.pexip.deleteConference(room.id)) deleted++;
          } catch (error) {
            failed.push(room.name);
            this.logger.error(
              { err: error, room: room.name },
              'room not deleted by delete-all',
            );
          }
        }),
      ),
    );

    this.metrics.roomsDeleted.inc({ reason: 'delete_all' }, deleted);
    this.logger.warn(
      { deleted, failed: failed.length },
      'every non-persistent room deleted on request',
    );
    return { deleted, failed: failed.sort() };
  }

  /** Persistent rooms are never removed by the collector or delete-all. */
  isPersistent(name: string): boolean {
    return this.config.rooms.persistentPrefixes.some((prefix) =>
      name.startsWith(prefix),
    );
  }

  private tagFor(uuiData: string): string {
    try {
      return tagForUui(parseUuiData(uuiData), this.config.rooms);
    } catch (error) {
      if (error instanceof UuiDataError) {
        throw new ProblemException(400, 'Invalid uuiData', error.message, {
          type: ProblemType.validation,
          errors: { uuiData: [error.message] },
        });
      }
      throw error;
    }
  }

  /**
   * The tag lookup and the read of the first pool room run side by side:
   * a create costs two Pexip round trips in sequence, not three.
   */
  private async handOut(tag: string): Promise<Room> {
    let lease = await this.takeFromPool();

    const [tagged, poolRoom] = await Promise.allSettled([
      this.pexip.findConferencesByTag(tag),
      lease ? this.pexip.findConferenceByName(lease.roomName) : undefined,
    ]);
    if (tagged.status === 'rejected') {
      if (lease) await this.returnUnused(lease, poolRoom);
      throw tagged.reason;
    }
    if (tagged.value.length > 0) {
      if (lease) await this.returnUnused(lease, poolRoom);
      const room = oldest(tagged.value);
      this.metrics.roomsHandedOut.inc({ source: 'existing' });
      this.logger.log(
        { room: room.name, id: room.id },
        'create repeated for a tag: answering the room that already has it',
      );
      return room;
    }

    let candidate =
      poolRoom.status === 'fulfilled'
        ? Promise.resolve(poolRoom.value)
        : Promise.reject(poolRoom.reason);
    for (let tried = 1; lease; tried++) {
      const room = await this.tagPoolRoom(lease, candidate, tag);
      if (room) return room;
      // Stop before taking another: a look-up started and then abandoned
      // would reject with nobody listening and bring the process down.
      if (tried === MAX_POOL_ROOMS_TRIED) break;

      lease = await this.takeFromPool();
      candidate = lease
        ? this.pexip.findConferenceByName(lease.roomName)
        : Promise.resolve(undefined);
    }
    return this.createOnDemand(tag);
  }

  /**
   * A pool room taken but not needed, because the tag was found elsewhere
   * or its look-up failed. It goes back unless its own look-up showed it
   * unusable: a room tagged by an earlier hand-out whose answer was lost
   * would otherwise sit in the pool, counted as ready, until a later
   * create stumbled on it.
   */
  private async returnUnused(
    lease: PoolLease,
    lookup: PromiseSettledResult<Room | null | undefined>,
  ): Promise<void> {
    if (lookup.status === 'fulfilled' && lookup.value === null) {
      await this.pool.discard(lease, 'no longer on Pexip');
    } else if (lookup.status === 'fulfilled' && lookup.value?.tag) {
      await this.pool.discard(lease, 'already carries a tag');
    } else {
      await this.pool.putBack(lease);
    }
  }

  /**
   * Puts the tag on one pool room. Resolves to undefined when the room
   * cannot be used (it vanished from Pexip, or it already carries a tag
   * because an earlier hand-out was interrupted), after dropping it.
   */
  private async tagPoolRoom(
    lease: PoolLease,
    lookup: Promise<Room | null | undefined>,
    tag: string,
  ): Promise<Room | undefined> {
    let room: Room | null | undefined;
    try {
      room = await lookup;
    } catch (error) {
      await this.pool.putBack(lease);
      throw error;
    }
    if (!room) {
      await this.pool.discard(lease, 'no longer on Pexip');
      return undefined;
    }
    if (room.tag !== '') {
      await this.pool.discard(lease, 'already carries a tag');
      return undefined;
    }

    try {
      await this.pexip.updateConference(room.id, { tag });
    } catch (error) {
      if (error instanceof PexipNotFoundError) {
        await this.pool.discard(lease, 'deleted while being handed out');
        return undefined;
      }
      await this.pool.putBack(lease);
      throw error;
    }

    await this.pool.handedOut(lease);
    this.pool.refillSoon();
    this.metrics.roomsHandedOut.inc({ source: 'pool' });
    this.logger.log({ room: room.name, id: room.id }, 'room handed out');
    return { ...room, tag };
  }

  private async createOnDemand(tag: string): Promise<Room> {
    this.logger.warn(
      'no ripe pool room: creating a room on demand; it may not be dialable for about a minute',
    );
    const created = await this.factory.create(tag, 'on_demand');
    const room = await this.pexip.getConference(created.id);
    if (!room) {
      throw new PexipUnavailableError(
        `room ${created.name} vanished right after it was created`,
      );
    }
    this.pool.refillSoon();
    this.metrics.roomsHandedOut.inc({ source: 'on_demand' });
    this.logger.log(
      { room: room.name, id: room.id },
      'room handed out (made on demand)',
    );
    return room;
  }

  /** A pool that cannot be read is treated as empty, not as an outage. */
  private async takeFromPool(): Promise<PoolLease | undefined> {
    try {
      return await this.pool.take();
    } catch (error) {
      this.logger.warn(
        { err: error },
        'pool queue unavailable; making the room on demand',
      );
      return undefined;
    }
  }
}

function oldest(rooms: Room[]): Room {
  return rooms.reduce((a, b) => (b.id < a.id ? b : a));
}

function roomNotFound(name: string): ProblemException {
  return new ProblemException(
    404,
    'Room not found',
    `No room is named "${name}".`,
    { type: ProblemType.notFound },
  );
}
