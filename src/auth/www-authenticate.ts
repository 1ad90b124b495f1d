/**
 * Builders of `WWW-Authenticate` challenges. Every 401 must carry one
 * (RFC 9110); the bearer ones follow RFC 6750 section 3.
 */

/** Realm of the bearer-protected private routes. */
export const BEARER_REALM = 'maxconf';

/** Realm of the event sink's HTTP Basic credentials. */
export const EVENT_SINK_REALM = 'maxconf-event-sink';

/** Realm of the public room route, checked with a Genesys Cloud token. */
export const GENESYS_REALM = 'maxconf-public-room';

export type BearerError = 'invalid_token' | 'insufficient_scope';

/**
 * A bearer challenge. Leave `error` out when the request carried no bearer
 * token at all: RFC 6750 says a client that did not try gets no error code.
 *
 * @example bearerChallenge('invalid_token', 'The token has expired.')
 * // Bearer realm="maxconf", error="invalid_token", error_description="The token has expired."
 */
export function bearerChallenge(
  error?: BearerError,
  description?: string,
): string {
  const parts = [`Bearer realm="${BEARER_REALM}"`];
  if (error) parts.push(`error="${error}"`);
  if (error && description) {
    parts.push(`error_description="${quotable(description)}"`);
  }
  return parts.join(', ');
}

/** The Basic challenge of the event sink, announcing UTF-8 (RFC 7617). */
export function basicChallenge(): string {
  return `Basic realm="${EVENT_SINK_REALM}", charset="UTF-8"`;
}

/**
 * The challenge of the public room route. Its token travels in the
 * `x-auth-token` header, not `Authorization`, so the scheme is our own and
 * names the header to use.
 */
export function genesysChallenge(): string {
  return `Genesys realm="${GENESYS_REALM}", header="x-auth-token"`;
}

// RFC 6750 allows only printable ASCII without `"` and `\` in these values.
function quotable(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
}
