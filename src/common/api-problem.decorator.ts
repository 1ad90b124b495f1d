import { applyDecorators } from '@nestjs/common';
import { ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE, typeForStatus } from './problem';
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

const TITLES: Record<number, [string, string]> = {
  400: [
    'Invalid request',
    'pin: pin must be 4–20 digits, optionally ending in #',
  ],
  401: ['Unauthorized', 'A bearer token is required.'],
  403: ['Forbidden', 'The token lacks a required role.'],
  404: ['Room not found', 'No room is named "kQ3vN0b1c2d3e4f5g6h7iA".'],
  413: ['Payload Too Large', 'The request body is larger than 1048576 bytes.'],
  429: [
    'Too Many Requests',
    'Too many requests from this client; try again after the Retry-After delay.',
  ],
  500: ['Internal Server Error', 'The server failed to handle the request.'],
  502: [
    'Pexip is unavailable',
    'Pexip could not be reached or did not give a usable answer; try again shortly.',
  ],
  503: ['Service Unavailable', 'A dependency is unavailable.'],
  504: [
    'Pexip did not answer in time',
    'Pexip did not answer in time; try again shortly.',
  ],
};

/** An example body for a status, so each answer shows its own problem. */
function exampleFor(status: number) {
  const [title, detail] = TITLES[status] ?? ['Error', 'Error.'];
  return {
    type: typeForStatus(status),
    title,
    status,
    detail,
    request_id: '0f8c1c9e-3b1e-4a3c-9c43-2f6f1d0b5a77',
  };
}

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
            example: exampleFor(status),
          },
        },
      });
    }),
  );
}
