import { Injectable, PipeTransform } from '@nestjs/common';
import { ProblemException, ProblemType } from '../common/problem';

/** Longest room name Pexip stores. */
export const MAX_ROOM_NAME_LENGTH = 250;

// C0 and C1 control characters and DEL.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Checks a room name from the path before it goes anywhere near Pexip.
 * Names travel to Pexip URL-encoded in a query string, so this is defence in
 * depth: a name that could never be a room is refused up front.
 *
 * @throws ProblemException 400 naming the rule broken.
 */
@Injectable()
export class RoomNamePipe implements PipeTransform<string, string> {
  transform(name: string): string {
    const problem = roomNameProblem(name);
    if (problem) {
      throw new ProblemException(400, 'Invalid room name', problem, {
        type: ProblemType.validation,
        errors: { room_name: [problem] },
      });
    }
    return name;
  }
}

export function roomNameProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > MAX_ROOM_NAME_LENGTH) {
    return `room_name must be 1–${MAX_ROOM_NAME_LENGTH} characters`;
  }
  if (name.includes('/')) {
    return 'room_name must not contain "/"';
  }
  if (CONTROL.test(name)) {
    return 'room_name must not contain control characters';
  }
  return undefined;
}
