import {
  CanActivate,
  ExecutionContext,
  HttpStatus,
  Injectable,
  Logger,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ProblemException, ProblemType } from '../common/problem';
import {
  InvalidTokenError,
  KeySetUnavailableError,
  MissingRolesError,
} from './auth.errors';
import {
  AuthenticatedClient,
  AuthenticatedRequest,
} from './authenticated-client';
import { readBearerToken } from './bearer-token';
import { JwtVerifier } from './jwt-verifier.service';
import { IS_PUBLIC_KEY } from './public.decorator';
import { bearerChallenge } from './www-authenticate';

/**
 * Global guard of every route not marked `@Public()`: the request needs
 * `Authorization: Bearer <JWT>` that `JwtVerifier` accepts. The verified
 * caller is put on `request.user`. With `AUTH_MODE=none` every request
 * passes (refused in production by the configuration).
 *
 * Answers: no bearer token → 401 with a bare challenge; bad token → 401
 * `invalid_token`; missing app role → 403 `insufficient_scope`; issuer keys
 * unreachable and none cached that fits → 503 (not the caller's fault, and
 * retrying later may succeed).
 *
 * The rate limiter runs before this guard, so that refused requests count
 * too, and asks `identify` who the caller is; a token is checked once per
 * request, whichever asks first.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly logger = new Logger(JwtAuthGuard.name);
  /** The outcome of each request's check, shared by `identify`. */
  private readonly verdicts = new WeakMap<
    AuthenticatedRequest,
    Promise<AuthenticatedClient>
  >();

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: JwtVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.guards(context)) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    request.user = await this.verdictFor(request);
    return true;
  }

  /**
   * The caller this guard lets in, or undefined when the route is public,
   * authentication is off, or the token will be refused (`canActivate`
   * answers that refusal). Never throws.
   *
   * @example const caller = await jwtAuthGuard.identify(context); // { sub, … } | undefined
   */
  async identify(
    context: ExecutionContext,
  ): Promise<AuthenticatedClient | undefined> {
    if (!this.guards(context)) return undefined;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    try {
      return await this.verdictFor(request);
    } catch {
      return undefined;
    }
  }

  private guards(context: ExecutionContext): boolean {
    if (context.getType() !== 'http' || !this.verifier.enabled) return false;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    return !isPublic;
  }

  private verdictFor(
    request: AuthenticatedRequest,
  ): Promise<AuthenticatedClient> {
    let verdict = this.verdicts.get(request);
    if (!verdict) {
      verdict = this.check(request);
      this.verdicts.set(request, verdict);
    }
    return verdict;
  }

  /** @throws ProblemException 401, 403 or 503, as described above. */
  private async check(
    request: AuthenticatedRequest,
  ): Promise<AuthenticatedClient> {
    const credentials = readBearerToken(request.headers.authorization);
    if (credentials.kind === 'absent') {
      throw unauthorized(
        'This route needs an Authorization: Bearer token.',
        bearerChallenge(),
      );
    }
    if (credentials.kind === 'malformed') {
      throw invalidToken('The Authorization header is not a bearer token.');
    }

    try {
      return await this.verifier.verify(credentials.token);
    } catch (error) {
      throw this.toProblem(error);
    }
  }

  private toProblem(error: unknown): unknown {
    if (error instanceof InvalidTokenError) {
      this.logger.debug(`Bearer token refused: ${error.message}`);
      return invalidToken(error.message);
    }
    if (error instanceof MissingRolesError) {
      return new ProblemException(
        HttpStatus.FORBIDDEN,
        'Forbidden',
        error.message,
        {
          headers: {
            'WWW-Authenticate': bearerChallenge(
              'insufficient_scope',
              error.message,
            ),
          },
        },
      );
    }
    if (error instanceof KeySetUnavailableError) {
      return new ProblemException(
        HttpStatus.SERVICE_UNAVAILABLE,
        'Authentication unavailable',
        'The signing keys of the token issuer cannot be fetched right now, ' +
          'so the token cannot be checked; try again shortly.',
        { type: ProblemType.dependencyUnavailable, cause: error },
      );
    }
    return error;
  }
}

function invalidToken(description: string): ProblemException {
  return unauthorized(
    description,
    bearerChallenge('invalid_token', description),
  );
}

function unauthorized(detail: string, challenge: string): ProblemException {
  return new ProblemException(HttpStatus.UNAUTHORIZED, 'Unauthorized', detail, {
    headers: { 'WWW-Authenticate': challenge },
  });
}
