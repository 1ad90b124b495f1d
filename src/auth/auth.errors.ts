/**
 * Why a caller was not let in, as the guards need to tell it apart. Services
 * throw these; the guards turn them into problem answers (401, 403 or 503)
 * with the right `WWW-Authenticate` challenge. None of them ever carries the
 * credential that was checked.
 */
export class AuthError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The bearer token is not acceptable (bad signature, wrong issuer or
 * audience, expired, unknown key…). The message is safe to show the caller
 * and contains no double quote, so it fits a `WWW-Authenticate` parameter.
 */
export class InvalidTokenError extends AuthError {}

/** The token is valid but lacks app roles this API requires. */
export class MissingRolesError extends AuthError {
  constructor(readonly missingRoles: readonly string[]) {
    super(`The token lacks the app role(s): ${missingRoles.join(', ')}.`);
  }
}

/**
 * The issuer's signing keys could not be fetched and none cached fits the
 * token: the token can be judged neither good nor bad right now.
 */
export class KeySetUnavailableError extends AuthError {}

/** Genesys Cloud answered 401 or 403 to the agent's token. */
export class GenesysTokenRejectedError extends AuthError {}

/**
 * The Genesys user may not read rooms: its division is not on the
 * allow-list, or the allow-list is empty.
 */
export class GenesysDivisionNotAllowedError extends AuthError {}

/**
 * Genesys Cloud could not be asked: unreachable, too slow, or answering
 * something other than a user or a refusal (5xx, 429, a redirect…).
 */
export class GenesysUnavailableError extends AuthError {}
