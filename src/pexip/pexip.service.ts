import { Injectable, Logger } from '@nestjs/common';
import type { AxiosResponse } from 'axios';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../config/app-config';
import { errorForResponse, saysAlreadyExists } from './pexip-error.mapper';
import { PexipHttpClient } from './pexip-http.client';
import { backoffDelayMs, MIN_ATTEMPT_MS } from './pexip-retry.policy';
import {
  PexipError,
  PexipQueueTimeoutError,
  PexipRejectedError,
  PexipTimeoutError,
  PexipUnavailableError,
} from './pexip.errors';
import {
  AUTOMATIC_PARTICIPANT_PATH,
  CONFERENCE_PATH,
  conferenceUri,
  NewPexipAutomaticParticipant,
  NewPexipConference,
  PexipAutomaticParticipant,
  PexipConference,
  PexipConferenceFilter,
  PexipConferencePatch,
  PexipListPage,
  STATUS_CONFERENCE_PATH,
} from './pexip.types';

/** Objects per page when walking a list. */
export const DEFAULT_PAGE_SIZE = 1000;

/** Outcome of a create. */
export interface PexipCreated {
  id: number;
  /**
   * True when the object was found already there after an answer that left
   * the outcome open (timeout, 5xx, "already exists") and taken as ours.
   */
  adopted: boolean;
}

/** What a create needs to find its object again after an unclear answer. */
interface CreateRecipe {
  /** For messages: `conference "kQ3v…"`. */
  what: string;
  path: string;
  body: unknown;
  /** Id of the object if it exists now, else undefined. */
  find: () => Promise<number | undefined>;
}

type PostOutcome =
  | { kind: 'created'; id: number | undefined }
  | { kind: 'exists'; error: PexipRejectedError }
  | { kind: 'unclear'; error: PexipError; retryAfter?: string }
  | { kind: 'not-sent'; error: PexipError; retryAfter?: undefined };

/**
 * Socket errors raised before a connection existed: the POST never reached
 * Pexip, so there is nothing to look up before sending it again.
 */
const NOT_CONNECTED_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'EAI_AGAIN',
]);

function neverConnected(error: PexipError): boolean {
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && NOT_CONNECTED_CODES.has(code);
}

/**
 * Conferences and automatic participants on the Pexip management node, in
 * the terms the rest of the service needs. Conference is Pexip's word for a
 * room; it stays inside this folder.
 *
 * Time bounds, with T = PEXIP_TIMEOUT_MS (see `pexip-retry.policy.ts`):
 * a method that makes one request (get, find by name, update, delete, ping)
 * settles within 1.5 × T, counting the wait for a free slot, an OAuth token
 * request, a replay after 401, retries and backoff. `createConference` and
 * `createAutomaticParticipant` settle within 3 × T: no POST runs past the
 * first 1.5 × T, and the look-up that follows an unclear POST has 1.5 × T
 * of its own. Walks over lists spend up to 1.5 × T per page.
 */
@Injectable()
export class PexipService {
  private readonly logger = new Logger(PexipService.name);
  private readonly maxRetries: number;

  constructor(
    private readonly client: PexipHttpClient,
    config: AppConfig,
  ) {
    this.maxRetries = config.pexip.maxRetries;
  }

  /**
   * The conference with exactly this name, or null.
   *
   * @throws PexipTimeoutError, PexipUnavailableError.
   * @example const room = await pexip.findConferenceByName('kQ3vN0b1');
   */
  async findConferenceByName(name: string): Promise<PexipConference | null> {
    const params = new URLSearchParams({ name });
    const page = await this.getPage(CONFERENCE_PATH, params, isConference);

    // The database's collation decides how `name=` compares; the contract
    // here is an exact match.
    return page.objects.find((conference) => conference.name === name) ?? null;
  }

  /**
   * Every conference carrying exactly this tag, across all pages.
   *
   * @throws PexipTimeoutError, PexipUnavailableError.
   */
  async findConferencesByTag(tag: string): Promise<PexipConference[]> {
    const found: PexipConference[] = [];
    for await (const page of this.listConferencePages({ tag })) {
      found.push(...page.filter((conference) => conference.tag === tag));
    }
    return found;
  }

  /**
   * One conference by id, or null when Pexip has none.
   *
   * @throws RangeError when `id` is not a positive integer.
   * @throws PexipTimeoutError, PexipUnavailableError.
   */
  async getConference(id: number): Promise<PexipConference | null> {
    assertId(id);
    const response = await this.client.send({
      method: 'GET',
      path: conferenceUri(id),
    });

    if (response.status === 404) {
      return null;
    }
    if (response.status !== 200) {
      throw errorForResponse(response, `GET conference ${id}`);
    }
    return readObject(response, isConference, `conference ${id}`);
  }

  /**
   * Walks the conferences that match `filter`, one page per iteration,
   * following Pexip's `meta.next` links to the end. Pages are read lazily:
   * stop iterating and no further page is fetched.
   *
   * Pexip lists in no guaranteed order, so a walk made while rooms are
   * being created or deleted may miss or repeat one.
   *
   * @param filter `name` (exact), `namePrefix`, `tag` (exact); combined.
   * @param pageSize objects per request (Pexip may cap it lower).
   * @throws RangeError when `pageSize` is not a positive integer.
   * @throws PexipTimeoutError, PexipUnavailableError, PexipRejectedError.
   * @example for await (const page of pexip.listConferencePages({})) { … }
   */
  async *listConferencePages(
    filter: PexipConferenceFilter,
    pageSize: number = DEFAULT_PAGE_SIZE,
  ): AsyncGenerator<PexipConference[]> {
    if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
      throw new RangeError(
        `pageSize must be a positive integer, got ${pageSize}`,
      );
    }
    const params = new URLSearchParams({ limit: String(pageSize) });
    if (filter.name !== undefined) {
      params.set('name', filter.name);
    }
    if (filter.namePrefix !== undefined) {
      params.set('name__startswith', filter.namePrefix);
    }
    if (filter.tag !== undefined) {
      params.set('tag', filter.tag);
    }

    yield* this.walkPages(CONFERENCE_PATH, params, isConference);
  }

  /**
   * Creates a conference. A create is never simply repeated: after an
   * answer that leaves the outcome open (timeout, network error, 5xx, 429)
   * Pexip may well have created it (a 500 after the commit is a known
   * Pexip behaviour), so the name is looked up first and an existing room
   * adopted; only when it is not there is the POST sent again, up to
   * PEXIP_MAX_RETRIES times. A 400 saying the name already exists is
   * answered the same way. Names are random and unguessable, so a room
   * found under the name is the one this call asked for.
   *
   * @returns the id (from the `Location` header, relative or absolute) and
   *   whether the room was adopted.
   * @throws PexipRejectedError on any other 400, with Pexip's field messages.
   * @throws PexipTimeoutError, PexipUnavailableError when Pexip could not
   *   be reached, or the room is not there after the last attempt; also
   *   when the look-up itself fails, in which case the room may exist.
   */
  createConference(body: NewPexipConference): Promise<PexipCreated> {
    return this.createOnce({
      what: `conference "${body.name}"`,
      path: CONFERENCE_PATH,
      body,
      find: async () => (await this.findConferenceByName(body.name))?.id,
    });
  }

  /**
   * Changes some fields of a conference (a merge; lists such as `aliases`
   * would be replaced whole, which is why the patch type leaves them out).
   *
   * @throws RangeError when `id` is not a positive integer.
   * @throws PexipNotFoundError when the conference does not exist.
   * @throws PexipRejectedError with Pexip's field messages on a 400.
   * @throws PexipTimeoutError, PexipUnavailableError.
   */
  async updateConference(
    id: number,
    patch: PexipConferencePatch,
  ): Promise<void> {
    assertId(id);
    const response = await this.client.send({
      method: 'PATCH',
      path: conferenceUri(id),
      data: patch,
    });

    if (!isSuccess(response)) {
      throw errorForResponse(response, `PATCH conference ${id}`);
    }
  }

  /**
   * Deletes a conference; its aliases go with it.
   *
   * @returns true when deleted, false when it was already gone. A DELETE
   *   that timed out after Pexip applied it, and was then retried, also
   *   answers false.
   * @throws RangeError when `id` is not a positive integer.
   * @throws PexipTimeoutError, PexipUnavailableError.
   */
  async deleteConference(id: number): Promise<boolean> {
    assertId(id);
    const response = await this.client.send({
      method: 'DELETE',
      path: conferenceUri(id),
    });

    if (response.status === 404) {
      return false;
    }
    if (!isSuccess(response)) {
      throw errorForResponse(response, `DELETE conference ${id}`);
    }
    this.logger.debug(`Deleted conference ${id}`);
    return true;
  }

  /**
   * Creates an automatic participant (a dial-out made when the conference
   * starts), with the same care as `createConference`: after an unclear
   * answer it looks for a participant with the same alias attached to the
   * same conference, and adopts it, before posting again.
   *
   * @returns the new participant's id.
   * @throws PexipRejectedError on a 400, PexipTimeoutError,
   *   PexipUnavailableError.
   */
  async createAutomaticParticipant(
    body: NewPexipAutomaticParticipant,
  ): Promise<number> {
    const created = await this.createOnce({
      what: `automatic participant "${body.alias}"`,
      path: AUTOMATIC_PARTICIPANT_PATH,
      body,
      find: () => this.findAutomaticParticipant(body),
    });
    return created.id;
  }

  /**
   * Names of the conferences running right now (Pexip's status API), all
   * pages. A name appears once even when the conference spans several
   * conferencing nodes.
   *
   * @throws PexipTimeoutError, PexipUnavailableError.
   */
  async listActiveConferenceNames(): Promise<string[]> {
    const names = new Set<string>();
    const params = new URLSearchParams({ limit: String(DEFAULT_PAGE_SIZE) });
    const pages = this.walkPages(
      STATUS_CONFERENCE_PATH,
      params,
      isActiveConference,
    );
    for await (const page of pages) {
      page.forEach((active) => names.add(active.name));
    }
    return [...names];
  }

  /**
   * A cheap reachability check for readiness probes: one page of one
   * conference, without retries (the probe itself runs again soon).
   *
   * @throws PexipTimeoutError, or PexipUnavailableError with the status.
   */
  async ping(): Promise<void> {
    const response = await this.client.send({
      method: 'GET',
      path: CONFERENCE_PATH,
      params: new URLSearchParams({ limit: '1' }),
      retry: false,
    });

    if (response.status !== 200) {
      throw new PexipUnavailableError(
        `Pexip answered ${response.status} to a reachability check`,
        response.status,
      );
    }
  }

  private async createOnce(recipe: CreateRecipe): Promise<PexipCreated> {
    const deadline = Date.now() + this.client.budgetMs;

    for (let post = 1; ; post += 1) {
      const outcome = await this.post(recipe, deadline);

      if (outcome.kind === 'created') {
        // Without a readable Location the object exists but its id is
        // unknown; the look-up finds it.
        const id = outcome.id ?? (await recipe.find());
        if (id === undefined) {
          throw new PexipUnavailableError(
            `Pexip accepted ${recipe.what} but neither its Location header nor a look-up gives its id`,
          );
        }
        this.logger.debug(`Created ${recipe.what} (id ${id})`);
        return { id, adopted: false };
      }

      const existing =
        outcome.kind === 'not-sent'
          ? undefined
          : await this.findAfter(recipe, outcome.error);
      if (existing !== undefined) {
        this.logger.warn(
          `Adopted ${recipe.what} (id ${existing}): it exists although the create failed (${outcome.error.message})`,
        );
        return { id: existing, adopted: true };
      }
      if (outcome.kind === 'exists') {
        throw outcome.error;
      }

      const delay = backoffDelayMs(post, outcome.retryAfter);
      if (
        post > this.maxRetries ||
        deadline - Date.now() - delay < MIN_ATTEMPT_MS
      ) {
        throw outcome.error;
      }
      const why =
        outcome.kind === 'not-sent'
          ? 'before reaching Pexip'
          : 'and it does not exist';
      this.logger.warn(
        `Creating ${recipe.what} failed (${outcome.error.message}) ${why}; posting it again in ${delay} ms (retry ${post} of ${this.maxRetries})`,
      );
      await sleep(delay);
    }
  }

  private async post(
    recipe: CreateRecipe,
    deadline: number,
  ): Promise<PostOutcome> {
    let response: AxiosResponse;
    try {
      response = await this.client.send({
        method: 'POST',
        path: recipe.path,
        data: recipe.body,
        deadline,
      });
    } catch (error) {
      // No answer at all: the request may still have been applied, unless
      // it never left the queue or no connection was ever made.
      if (error instanceof PexipUnavailableError && neverConnected(error)) {
        return { kind: 'not-sent', error };
      }
      if (
        (error instanceof PexipTimeoutError &&
          !(error instanceof PexipQueueTimeoutError)) ||
        (error instanceof PexipUnavailableError && error.status === undefined)
      ) {
        return { kind: 'unclear', error };
      }
      throw error;
    }

    if (isSuccess(response)) {
      return {
        kind: 'created',
        id: idFromLocation(response.headers.location, recipe.path),
      };
    }

    const error = errorForResponse(response, `POST ${recipe.what}`);
    if (error instanceof PexipRejectedError) {
      if (saysAlreadyExists(error)) {
        return { kind: 'exists', error };
      }
      throw error;
    }
    if (response.status === 429 || response.status >= 500) {
      const retryAfter = response.headers['retry-after'] as unknown;
      return {
        kind: 'unclear',
        error,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
      };
    }
    throw error;
  }

  /** The look-up after an unclear create, which must not hide that doubt. */
  private async findAfter(
    recipe: CreateRecipe,
    postError: PexipError,
  ): Promise<number | undefined> {
    try {
      return await recipe.find();
    } catch (error) {
      if (!(error instanceof PexipError)) {
        throw error;
      }
      const message = `Creating ${recipe.what} may or may not have taken effect: the POST failed (${postError.message}) and the look-up failed too (${error.message})`;
      this.logger.error(message);
      const options = { cause: error, outcomeUnknown: true };
      throw error instanceof PexipTimeoutError
        ? new PexipTimeoutError(message, options)
        : new PexipUnavailableError(
            message,
            error instanceof PexipUnavailableError ? error.status : undefined,
            options,
          );
    }
  }

  private async findAutomaticParticipant(
    body: NewPexipAutomaticParticipant,
  ): Promise<number | undefined> {
    // Every pool room dials the same address, so the alias alone matches
    // many participants; the conference tells ours apart.
    const wanted = new Set(body.conference.map(pathOf));
    const params = new URLSearchParams({
      alias: body.alias,
      limit: String(DEFAULT_PAGE_SIZE),
    });
    const pages = this.walkPages(
      AUTOMATIC_PARTICIPANT_PATH,
      params,
      isAutomaticParticipant,
    );

    for await (const page of pages) {
      const match = page.find(
        (participant) =>
          participant.alias === body.alias &&
          [participant.conference]
            .flat()
            .some((uri) => typeof uri === 'string' && wanted.has(pathOf(uri))),
      );
      if (match) {
        return match.id;
      }
    }
    return undefined;
  }

  private async getPage<T>(
    path: string,
    params: URLSearchParams,
    isItem: (value: unknown) => value is T,
  ): Promise<PexipListPage<T>> {
    const response = await this.client.send({ method: 'GET', path, params });

    if (response.status !== 200) {
      throw errorForResponse(response, `GET ${path}`);
    }
    return readListPage(response, isItem, path);
  }

  private async *walkPages<T>(
    path: string,
    params: URLSearchParams,
    isItem: (value: unknown) => value is T,
  ): AsyncGenerator<T[]> {
    const seen = new Set<string>();
    let next: URLSearchParams | undefined = params;

    while (next) {
      const page = await this.getPage(path, next, isItem);
      yield page.objects;

      next = nextPageParams(page.meta.next, path);
      if (next && seen.has(next.toString())) {
        throw new PexipUnavailableError(
          `Pexip's list of ${path} links back to a page already read`,
        );
      }
      if (next) {
        seen.add(next.toString());
      }
    }
  }
}

/**
 * The query of Pexip's `meta.next` link, or undefined at the end. The link
 * is a path from the host (or a full URL); its path must be the list's own,
 * so that a strange link can never send a request elsewhere.
 */
export function nextPageParams(
  next: string | null | undefined,
  listPath: string,
): URLSearchParams | undefined {
  if (!next) {
    return undefined;
  }
  const url = new URL(next, 'http://pexip.invalid');
  if (!url.pathname.endsWith(listPath)) {
    throw new PexipUnavailableError(
      `Pexip's next-page link leaves ${listPath}: ${url.pathname}`,
    );
  }
  return url.searchParams;
}

/**
 * The id at the end of a `Location` header for an object of `listPath`,
 * absolute (`https://mgr/api/…/conference/42/`) or relative; undefined
 * when there is none or it names something else.
 */
export function idFromLocation(
  location: unknown,
  listPath: string,
): number | undefined {
  if (typeof location !== 'string' || location.length === 0) {
    return undefined;
  }
  const { pathname } = new URL(location, 'http://pexip.invalid');
  const at = pathname.lastIndexOf(listPath);
  if (at === -1) {
    return undefined;
  }
  const match = /^([1-9][0-9]*)\/?$/.exec(pathname.slice(at + listPath.length));
  const id = match ? Number(match[1]) : NaN;
  return Number.isSafeInteger(id) ? id : undefined;
}

function assertId(id: number): void {
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new RangeError(
      `A Pexip object id must be a positive integer, got ${String(id)}`,
    );
  }
}

function isSuccess(response: AxiosResponse): boolean {
  return response.status >= 200 && response.status < 300;
}

function pathOf(uri: string): string {
  return new URL(uri, 'http://pexip.invalid').pathname;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isConference(value: unknown): value is PexipConference {
  return (
    isRecord(value) &&
    typeof value.id === 'number' &&
    typeof value.name === 'string'
  );
}

function isActiveConference(value: unknown): value is { name: string } {
  return isRecord(value) && typeof value.name === 'string';
}

function isAutomaticParticipant(
  value: unknown,
): value is PexipAutomaticParticipant {
  return (
    isRecord(value) &&
    typeof value.id === 'number' &&
    typeof value.alias === 'string'
  );
}

function readObject<T>(
  response: AxiosResponse,
  isItem: (value: unknown) => value is T,
  what: string,
): T {
  if (!isItem(response.data)) {
    throw new PexipUnavailableError(
      `Pexip answered ${what} with a body that is not one`,
      response.status,
    );
  }
  return response.data;
}

function readListPage<T>(
  response: AxiosResponse,
  isItem: (value: unknown) => value is T,
  path: string,
): PexipListPage<T> {
  const data = response.data as unknown;
  if (
    !isRecord(data) ||
    !Array.isArray(data.objects) ||
    !data.objects.every(isItem)
  ) {
    throw new PexipUnavailableError(
      `Pexip answered the list ${path} with an unreadable body`,
      response.status,
    );
  }
  // A tolerant reader: only `next` matters, and it may be missing.
  const meta = isRecord(data.meta) ? data.meta : {};
  return { meta, objects: data.objects } as PexipListPage<T>;
}
