import {
  CanActivate,
  ExecutionContext,
  HttpStatus,
  Injectable,
} from '@nestjs/common';
import { ProblemException, ProblemType } from '../common/problem';
import {
  GenesysDivisionNotAllowedError,
  GenesysTokenRejectedError,
  GenesysUnavailableError,
} from './auth.errors';
import { AuthenticatedRequest } from './authenticated-client';
import { GenesysService } from './genesys.service';
import { genesysChallenge } from './www-authenticate';

/** Header in which the agent widget sends its Genesys Cloud token. */
export const GENESYS_TOKEN_HEADER = 'x-auth-token';

/**
 * Guard of the public room route read by the agent widget: the request
 * needs a Genesys Cloud token in `x-auth-token` (a leading `Bearer ` is
 * tolerated) that Genesys accepts, for a user of an allowed division. The
 * user is put on `request.genesysUser`.
 *
 * Answers: no or refused token → 401; division not allowed → 403; Genesys
 * unreachable, slow or failing → 503. Use with `@Public()`, so that the
 * bearer check does not run first.
 *
 * @example
 * @Public()
 * @UseGuards(GenesysAuthGuard)
 * @Get('room/:room_name')
 */
@Injectable()
export class GenesysAuthGuard implements CanActivate {
  constructor(private readonly genesys: GenesysService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = readToken(request.headers[GENESYS_TOKEN_HEADER]);
    if (!token) {
      throw unauthorized(
        `This route needs a Genesys Cloud token in the ${GENESYS_TOKEN_HEADER} header.`,
      );
    }

    try {
      request.genesysUser = await this.genesys.authorize(token);
      return true;
    } catch (error) {
      throw toProblem(error);
    }
  }
}

function readToken(header: string | string[] | undefined): string {
  const value = (Array.isArray(header) ? header[0] : header)?.trim() ?? '';
  return value.replace(/^Bearer +/i, '');
}

function toProblem(error: unknown): unknown {
  if (error instanceof GenesysTokenRejectedError) {
    return unauthorized(error.message);
  }
  if (error instanceof GenesysDivisionNotAllowedError) {
    return new ProblemException(
      HttpStatus.FORBIDDEN,
      'Forbidden',
      error.message,
    );
  }
  if (error instanceof GenesysUnavailableError) {
    return new ProblemException(
      HttpStatus.SERVICE_UNAVAILABLE,
      'Genesys Cloud unavailable',
      'Genesys Cloud cannot be asked to check the token right now; try again shortly.',
      { type: ProblemType.dependencyUnavailable, cause: error },
    );
  }
  return error;
}

function unauthorized(detail: string): ProblemException {
  return new ProblemException(HttpStatus.UNAUTHORIZED, 'Unauthorized', detail, {
    headers: { 'WWW-Authenticate': genesysChallenge() },
  });
}
