import { applyDecorators } from '@nestjs/common';
import { ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from './problem';
import { ProblemResponseDto } from './problem.response.dto';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; nothing was changed.',
  401: 'Missing or invalid credentials.',
  403: 'Authenticated, but not allowed.',
  404: 'No room with that name.',
  413: 'Request body too large.',
  429: 'Too many requests from this client; see Retry-After.',
  500: 'Unexpected failure inside the service.',
  502: 'Pexip failed or gave a bad answer.',
  503: 'A dependency is unavailable.',
  504: 'Pexip did not answer in time.',
};

/**
 * Documents error answers of a route as problem+json.
 *
 * @example @ApiProblems(400, 404, 502, 504)
 */
export function ApiProblems(
  ...statuses: (number | [number, string])[]
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((entry) => {
      const [status, description] = Array.isArray(entry)
        ? entry
        : [entry, DESCRIPTIONS[entry] ?? 'Error.'];
      return ApiResponse({
        status,
        description,
        content: {
          [PROBLEM_CONTENT_TYPE]: {
            schema: { $ref: getSchemaPath(ProblemResponseDto) },
          },
        },
      });
    }),
  );
}
