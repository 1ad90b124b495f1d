/** What the `Authorization` header holds, as far as bearer auth cares. */
export type BearerCredentials =
  | { readonly kind: 'absent' }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'token'; readonly token: string };

// RFC 6750 b64token: the characters a bearer token may contain.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const SCHEME = /^([^\s]+)/;

/**
 * Reads a bearer token from an `Authorization` header. A header with
 * another scheme (say Basic) counts as absent: that client did not try
 * bearer auth, and RFC 6750 answers it with a challenge but no error code.
 *
 * @example readBearerToken('Bearer eyJ…') // { kind: 'token', token: 'eyJ…' }
 */
export function readBearerToken(header: string | undefined): BearerCredentials {
  if (!header) return { kind: 'absent' };

  const scheme = SCHEME.exec(header.trim())?.[1] ?? '';
  if (scheme.toLowerCase() !== 'bearer') return { kind: 'absent' };

  const match = BEARER.exec(header.trim());
  return match ? { kind: 'token', token: match[1] } : { kind: 'malformed' };
}
