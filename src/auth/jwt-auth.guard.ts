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
import { AuthenticatedRequest } from './authenticated-client';
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
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly logger = new Logger(JwtAuthGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: JwtVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic || !this.verifier.enabled) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
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
      request.user = await this.verifier.verify(credentials.token);
      return true;
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
