/*
 * The exact `WWW-Authenticate` values the contract gives each refusal, for
 * tests that compare a challenge to the letter.
 */

/** A private route called without a bearer token. */
export const BEARER_BARE = 'Bearer realm="maxconf"';
/** The event sink called without valid Basic credentials. */
export const BASIC_CHALLENGE =
  'Basic realm="maxconf-event-sink", charset="UTF-8"';
/** The agent widget's route called without a valid Genesys token. */
export const GENESYS_CHALLENGE =
  'Genesys realm="maxconf-public-room", header="x-auth-token"';

/**
 * A bearer token refused for `description`.
 *
 * @example invalidToken('The token has expired.')
 */
export function invalidToken(description: string): string {
  return `Bearer realm="maxconf", error="invalid_token", error_description="${description}"`;
}
