import {
  CanActivate,
  ExecutionContext,
  HttpStatus,
  Injectable,
  Logger,
} from '@nestjs/common';
import type { Request } from 'express';
import { LRUCache } from 'lru-cache';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { ProblemException, ProblemType } from '../common/problem';
import { basicChallenge } from './www-authenticate';

/** A user and password from a Basic `Authorization` header. */
export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

const BASIC = /^Basic +(\S+) *$/i;

// Standard base64; the final padding may be left out.
const BASE64 =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/**
 * Reads HTTP Basic credentials (RFC 7617, UTF-8). Returns `undefined` for a
 * missing header, another scheme, bad base64 or a value without a colon.
 *
 * @example readBasicCredentials('Basic dXNlcjpwYXNz') // { username: 'user', password: 'pass' }
 */
export function readBasicCredentials(
  header: string | undefined,
): BasicCredentials | undefined {
  const match = header ? BASIC.exec(header.trim()) : null;
  if (!match || !BASE64.test(match[1])) return undefined;

  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return {
    username: decoded.slice(0, colon),
    password: decoded.slice(colon + 1),
  };
}

/**
 * Compares two secrets in time that depends on neither their content nor
 * their lengths: both sides are hashed to 32 bytes first.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** How long refused attempts are remembered per address. */
const FAILURE_WINDOW_MS = 60_000;

interface FailureWindow {
  count: number;
  endsAt: number;
}

/**
 * Guard of the event sink that Pexip's conferencing nodes post to: HTTP
 * Basic with `EVENT_SINK_USERNAME` / `EVENT_SINK_PASSWORD`, compared in
 * constant time. Without configured credentials every call is refused.
 * Every refusal is a 401 with a Basic challenge, whatever was wrong, so an
 * attacker learns nothing about which half failed.
 *
 * The route is exempt from the rate limit, because a busy platform posts
 * many events; refused calls are limited instead: an address refused
 * `RATE_LIMIT_PER_MINUTE` times within a minute gets 429, before any
 * check, until that minute is over. Guessing the password is then slow,
 * and a right guess during the wait reveals nothing.
 *
 * @example
 * @Public()
 * @UseGuards(EventSinkAuthGuard)
 * @Post('event_sink')
 */
@Injectable()
export class EventSinkAuthGuard implements CanActivate {
  private readonly logger = new Logger(EventSinkAuthGuard.name);
  /** Refused attempts by client address; bounded, oldest dropped first. */
  private readonly failures = new LRUCache<string, FailureWindow>({
    max: 10_000,
  });

  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const address = request.ip ?? request.socket?.remoteAddress ?? 'unknown';
    this.refuseWhileBlocked(address);

    const expected = this.config.eventSink;
    const given = readBasicCredentials(request.headers.authorization);
    if (given && expected.username && expected.password) {
      // Both halves are compared even when the first differs, so timing
      // does not tell a right user name from a wrong one.
      const userMatches = secretsEqual(given.username, expected.username);
      const passwordMatches = secretsEqual(given.password, expected.password);
      if (userMatches && passwordMatches) return true;
    }

    this.countFailure(address);
    this.logger.debug(
      `Event sink call refused from ${address}: ${
        given ? 'wrong credentials' : 'no Basic credentials'
      }`,
    );
    throw new ProblemException(
      HttpStatus.UNAUTHORIZED,
      'Unauthorized',
      'The event sink needs the HTTP Basic credentials configured for Pexip.',
      { headers: { 'WWW-Authenticate': basicChallenge() } },
    );
  }

  /** @throws ProblemException 429 while `address` is over its budget. */
  private refuseWhileBlocked(address: string): void {
    const window = this.failures.get(address);
    const now = Date.now();
    if (!window || now >= window.endsAt) return;
    if (window.count < this.config.rateLimitPerMinute) return;

    const seconds = Math.max(1, Math.ceil((window.endsAt - now) / 1000));
    throw new ProblemException(
      HttpStatus.TOO_MANY_REQUESTS,
      'Too Many Requests',
      'Too many refused attempts from this address; try again after the Retry-After delay.',
      {
        type: ProblemType.rateLimited,
        headers: { 'Retry-After': String(seconds) },
      },
    );
  }

  private countFailure(address: string): void {
    const now = Date.now();
    const window = this.failures.get(address);
    if (!window || now >= window.endsAt) {
      this.failures.set(address, {
        count: 1,
        endsAt: now + FAILURE_WINDOW_MS,
      });
      return;
    }
    window.count += 1;
  }
}
