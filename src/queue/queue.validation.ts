/**
 * Argument checks shared by every queue store, so that both backends refuse
 * the same calls. The limits are Azure Storage Queue's: a backend that
 * accepted more would let code pass its tests on SQLite and fail in Azure.
 */

/** Longest visibility delay or timeout Azure accepts: seven days. */
export const MAX_VISIBILITY_SECONDS = 7 * 24 * 60 * 60;

/**
 * Checks the arguments of `receive`.
 *
 * @throws RangeError when `maxMessages` is not a whole number of at least 1,
 *   or `visibilityTimeoutSeconds` is not a whole number from 1 s to 7 days.
 */
export function assertReceiveArguments(
  maxMessages: number,
  visibilityTimeoutSeconds: number,
): void {
  if (!Number.isInteger(maxMessages) || maxMessages < 1) {
    throw new RangeError(
      `maxMessages must be a whole number of at least 1, got ${maxMessages}`,
    );
  }
  assertSeconds('visibilityTimeoutSeconds', visibilityTimeoutSeconds, 1);
}

/**
 * Checks a send delay or a release delay.
 *
 * @throws RangeError when `seconds` is not a whole number from 0 to 7 days.
 */
export function assertDelaySeconds(name: string, seconds: number): void {
  assertSeconds(name, seconds, 0);
}

function assertSeconds(name: string, seconds: number, min: number): void {
  if (
    !Number.isInteger(seconds) ||
    seconds < min ||
    seconds > MAX_VISIBILITY_SECONDS
  ) {
    throw new RangeError(
      `${name} must be a whole number of seconds from ${min} to ` +
        `${MAX_VISIBILITY_SECONDS} (7 days), got ${seconds}`,
    );
  }
}
