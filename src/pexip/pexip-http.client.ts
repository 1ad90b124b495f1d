import { HttpService } from '@nestjs/axios';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import axios, {
  AxiosAdapter,
  AxiosError,
  AxiosRequestConfig,
  AxiosResponse,
  InternalAxiosRequestConfig,
  isAxiosError,
} from 'axios';
import axiosRetry, { IAxiosRetryConfig } from 'axios-retry';
import pLimit from 'p-limit';
import { AppConfig } from '../config/app-config';
import { createPexipCredentials, PexipCredentials } from './pexip-auth';
import {
  PEXIP_CALL_OBSERVER,
  PexipCall,
  PexipCallObserver,
} from './pexip-call-observer';
import {
  backoffDelayMs,
  callBudgetMs,
  isTimeout,
  isTransientFailure,
  MIN_ATTEMPT_MS,
  RETRYABLE_STATUSES,
} from './pexip-retry.policy';
import {
  PexipError,
  PexipQueueTimeoutError,
  PexipTimeoutError,
  PexipUnavailableError,
} from './pexip.errors';
import { CONFIGURATION_PATH, OAUTH_TOKEN_PATH } from './pexip.types';

export type PexipMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** One call to the management API. */
export interface PexipRequest {
  method: PexipMethod;
  /** Path from the host, with Pexip's trailing slash, no query. */
  path: string;
  /** Query; always built with URLSearchParams so user input is encoded. */
  params?: URLSearchParams;
  /** JSON body. */
  data?: unknown;
  /**
   * Retry transient failures (default true). POST is never retried here,
   * whatever this says: see `PexipService.createConference`.
   */
  retry?: boolean;
  /** Time (ms since epoch) by which the call must settle; default: budget. */
  deadline?: number;
}

/** State shared by the attempts of one call. */
interface CallState {
  readonly method: PexipMethod;
  readonly route: string;
  readonly deadline: number;
  attempts: number;
}

// Query values shown in logs; other values (tags carry identity-check ids)
// are replaced by "…".
const LOGGED_PARAMS: ReadonlySet<string> = new Set([
  'name',
  'name__startswith',
  'alias',
  'limit',
  'offset',
]);

// Writes to a collection URL act on every object in it (a DELETE there
// wipes all rooms), so PATCH and DELETE must name one object by its id.
const DETAIL_PATH = /^\/api\/admin\/[a-z]+\/v1\/[a-z_]+\/[1-9][0-9]*\/$/;
const ANY_PATH = /^\/[A-Za-z0-9_/-]*\/$/;

/**
 * The only code that sends HTTP to the Pexip management node. It adds what
 * every call needs and no call should repeat: credentials (with one token
 * renewal and replay on 401), the cap on calls in flight (one slot per
 * attempt, so a backoff sleep holds none), retries of GET, PATCH and DELETE
 * on network errors, timeouts, 429, 502, 503 and 504 with jittered
 * exponential backoff that honours `Retry-After`, the call budget described
 * in `pexip-retry.policy.ts`, and a report of each attempt to the observer.
 *
 * It answers with Pexip's response whatever its status, so that callers map
 * statuses to meanings; it throws only when no usable answer came.
 */
@Injectable()
export class PexipHttpClient implements OnApplicationShutdown {
  private readonly logger = new Logger(PexipHttpClient.name);
  private readonly limit: pLimit.Limit;
  private readonly credentials: PexipCredentials;
  private readonly transport: AxiosAdapter = axios.getAdapter('http');
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  /** How long one call may take in all, in milliseconds. */
  readonly budgetMs: number;

  constructor(
    private readonly http: HttpService,
    config: AppConfig,
    @Optional()
    @Inject(PEXIP_CALL_OBSERVER)
    private readonly observer?: PexipCallObserver,
  ) {
    this.timeoutMs = config.pexip.timeoutMs;
    this.maxRetries = config.pexip.maxRetries;
    this.budgetMs = callBudgetMs(config.pexip.timeoutMs);
    this.limit = pLimit(config.pexip.maxConcurrency);
    this.credentials = createPexipCredentials(config.pexip, (form) =>
      this.requestToken(form),
    );

    // Off unless a request switches it on, so that token requests and
    // POSTs are never repeated by accident.
    axiosRetry(this.http.axiosRef, { retries: 0 });
  }

  /**
   * Sends one call and answers with Pexip's response, any status but 401
   * and 403.
   *
   * @throws PexipTimeoutError when no answer came within the budget.
   * @throws PexipUnavailableError on network errors (no `status`) and when
   *   Pexip refuses our credentials (401 or 403; logged as an error that
   *   says what to check).
   * @throws Error when the path is malformed or a write names no object.
   * @example await client.send({ method: 'GET', path: conferenceUri(42) });
   */
  async send(request: PexipRequest): Promise<AxiosResponse> {
    assertSafePath(request);
    const call: CallState = {
      method: request.method,
      route: routeOf(request.path),
      deadline: request.deadline ?? Date.now() + this.budgetMs,
      attempts: 0,
    };

    let authorization = await this.credentials.authorization(call.deadline);
    let response = await this.exchange(request, authorization, call);

    if (response.status === 401 && this.credentials.renewable) {
      this.logger.warn(
        `Pexip refused the access token on ${describe(request)}; renewing it and sending the call once more`,
      );
      authorization = await this.credentials.renew(
        authorization,
        call.deadline,
      );
      response = await this.exchange(request, authorization, call);
    }

    if (response.status === 401 || response.status === 403) {
      throw this.credentialsRefused(request, response.status);
    }
    return response;
  }

  onApplicationShutdown(): void {
    // Keep-alive sockets would otherwise hold the process open. This runs
    // after every module's onModuleDestroy, so work that finishes during a
    // graceful shutdown still has its connections.
    const { httpAgent, httpsAgent } = this.http.axiosRef.defaults;
    (httpAgent as { destroy?: () => void } | undefined)?.destroy?.();
    (httpsAgent as { destroy?: () => void } | undefined)?.destroy?.();
  }

  /** Sends the request, with retries when allowed, under one credential. */
  private async exchange(
    request: PexipRequest,
    authorization: string,
    call: CallState,
  ): Promise<AxiosResponse> {
    const retrying =
      request.method !== 'POST' &&
      request.retry !== false &&
      this.maxRetries > 0;
    const config: AxiosRequestConfig = {
      method: request.method,
      url: request.path,
      params: request.params,
      data: request.data,
      headers: { Authorization: authorization },
      adapter: (attemptConfig) => this.attempt(attemptConfig, call),
      // Only a status worth retrying becomes an error for axios-retry to
      // look at. Its own `validateResponse` would turn every answer, 200s
      // included, into an AxiosError with a stack trace first: about
      // 40 µs of CPU per call, on every call.
      ...(retrying
        ? {
            validateStatus: (status: number) => !RETRYABLE_STATUSES.has(status),
          }
        : {}),
      'axios-retry': retrying
        ? this.retryOptions(request, call)
        : { retries: 0 },
    };

    try {
      return await this.http.axiosRef.request(config);
    } catch (error) {
      // With retries on, a retryable status that outlived them arrives as
      // an error; it is still Pexip's answer.
      if (isAxiosError(error) && error.response) {
        return error.response;
      }
      throw this.transportError(request, error, call);
    }
  }

  private retryOptions(
    request: PexipRequest,
    call: CallState,
  ): IAxiosRetryConfig {
    let retries = 0;
    let nextDelayMs = 0;
    return {
      retries: this.maxRetries,
      // The budget, not axios-retry, shortens the later attempts.
      shouldResetTimeout: true,
      retryCondition: (error) => {
        if (!isTransientFailure(error)) {
          return false;
        }
        const delay = backoffDelayMs(retries + 1, retryAfterOf(error));
        if (call.deadline - Date.now() - delay < MIN_ATTEMPT_MS) {
          return false;
        }
        nextDelayMs = delay;
        return true;
      },
      retryDelay: () => nextDelayMs,
      onRetry: (retryCount, error) => {
        retries = retryCount;
        this.logger.warn(
          `Retrying ${describe(request)} in ${nextDelayMs} ms (retry ${retryCount} of ${this.maxRetries}) after ${failureOf(error)}`,
        );
      },
    };
  }

  /**
   * One HTTP attempt: waits for a free slot, then sends with whatever is
   * left of the budget as its timeout (at most PEXIP_TIMEOUT_MS).
   */
  private attempt(
    config: InternalAxiosRequestConfig,
    call: CallState,
  ): Promise<AxiosResponse> {
    return this.limit(async () => {
      const left = call.deadline - Date.now();
      if (left < MIN_ATTEMPT_MS) {
        throw new PexipQueueTimeoutError(
          `${config.method?.toUpperCase()} ${config.url} waited for a free slot until its ${this.budgetMs} ms budget ran out and was not sent (${this.limit.pendingCount} calls still waiting)`,
        );
      }

      call.attempts += 1;
      config.timeout = Math.min(this.timeoutMs, left);
      const started = performance.now();
      try {
        const response = await this.transport(config);
        this.report(call, response.status, started);
        return response;
      } catch (error) {
        this.report(call, statusOf(error), started);
        throw error;
      }
    });
  }

  /** The token request: one attempt, no retry, same slots and observer. */
  private async requestToken(form: URLSearchParams): Promise<AxiosResponse> {
    const call: CallState = {
      method: 'POST',
      route: OAUTH_TOKEN_PATH,
      deadline: Date.now() + this.timeoutMs,
      attempts: 0,
    };
    try {
      return await this.http.axiosRef.request({
        method: 'POST',
        url: OAUTH_TOKEN_PATH,
        data: form.toString(),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        adapter: (config) => this.attempt(config, call),
      });
    } catch (error) {
      throw this.transportError(
        { method: 'POST', path: OAUTH_TOKEN_PATH },
        error,
        call,
      );
    }
  }

  private report(
    call: CallState,
    status: PexipCall['status'],
    started: number,
  ): void {
    if (!this.observer) {
      return;
    }
    try {
      this.observer.observe({
        method: call.method,
        route: call.route,
        status,
        durationMs: performance.now() - started,
        attempt: call.attempts,
      });
    } catch (error) {
      this.logger.debug(`The Pexip call observer failed: ${String(error)}`);
    }
  }

  private transportError(
    request: Pick<PexipRequest, 'method' | 'path' | 'params'>,
    error: unknown,
    call: CallState,
  ): Error {
    if (error instanceof PexipError || !isAxiosError(error)) {
      return error as Error;
    }
    const tries = `${call.attempts} attempt${call.attempts === 1 ? '' : 's'}`;
    if (isTimeout(error)) {
      return new PexipTimeoutError(
        `Pexip did not answer ${describe(request)} in time (${tries}, at most ${this.timeoutMs} ms each, ${this.budgetMs} ms in all)`,
        { cause: safeCause(error) },
      );
    }
    return new PexipUnavailableError(
      `Pexip could not be reached for ${describe(request)} (${tries}): ${failureOf(error)}`,
      undefined,
      { cause: safeCause(error) },
    );
  }

  private credentialsRefused(
    request: PexipRequest,
    status: number,
  ): PexipUnavailableError {
    const what =
      status === 401 ? 'refused our credentials' : 'denied our account access';
    const message = `Pexip ${what} (${status}) on ${describe(request)}`;
    this.logger.error(`${message}: ${this.credentials.hint}`);
    return new PexipUnavailableError(message, status);
  }
}

/**
 * `/conference/:id/` for `/api/admin/configuration/v1/conference/42/`: a
 * label with few values, fit for metrics.
 */
export function routeOf(path: string): string {
  const local = path.startsWith(`${CONFIGURATION_PATH}/`)
    ? path.slice(CONFIGURATION_PATH.length)
    : path;
  return local.replace(/\/[0-9]+(?=\/)/g, '/:id');
}

/** `GET /api/…/conference/?name=x&tag=…`, fit for a log line. */
export function describe(
  request: Pick<PexipRequest, 'method' | 'path' | 'params'>,
): string {
  const query = [...(request.params?.entries() ?? [])]
    .map(([key, value]) => `${key}=${LOGGED_PARAMS.has(key) ? value : '…'}`)
    .join('&');
  return `${request.method} ${request.path}${query ? `?${query}` : ''}`;
}

function assertSafePath(request: PexipRequest): void {
  if (!ANY_PATH.test(request.path) || request.path.includes('//')) {
    throw new Error(
      `Refusing to call Pexip at "${request.path}": a path must be plain segments ending in "/"`,
    );
  }
  if (
    (request.method === 'PATCH' || request.method === 'DELETE') &&
    !DETAIL_PATH.test(request.path)
  ) {
    throw new Error(
      `Refusing to send ${request.method} to "${request.path}": it must name one object by its id`,
    );
  }
}

function statusOf(error: unknown): PexipCall['status'] {
  if (isAxiosError(error) && error.response) {
    return error.response.status;
  }
  return isTimeout(error) ? 'timeout' : 'network';
}

function failureOf(error: unknown): string {
  if (isAxiosError(error)) {
    if (error.response) {
      return `status ${error.response.status}`;
    }
    return isTimeout(error) ? 'a timeout' : (error.code ?? error.message);
  }
  return String(error);
}

function retryAfterOf(error: AxiosError): string | undefined {
  const value = error.response?.headers['retry-after'] as unknown;
  return typeof value === 'string' ? value : undefined;
}

/**
 * The cause kept on adapter errors. An AxiosError carries the request
 * config, whose headers hold the credentials and whose body may hold a
 * client assertion; a logger that serialises causes would print them. This
 * copy keeps only what explains the failure.
 */
function safeCause(error: AxiosError): Error {
  const cause = new Error(error.message);
  cause.name = error.name;
  cause.stack = error.stack;
  return Object.assign(cause, { code: error.code });
}
