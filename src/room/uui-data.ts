/**
 * Decoding of the `uuiData` query parameter: a SIP User-to-User value whose
 * payload is the hex of the ASCII text `<host>&<video_call_id>`, optionally
 * followed by `;`-separated parameters such as `encoding=hex`.
 *
 * The identity service builds the room's tag URL from the two parts, so
 * both are checked against strict alphabets before they reach a URL.
 */

export interface UuiParts {
  readonly host: string;
  readonly videoCallId: string;
}

export interface UuiRules {
  /** Lower-case hosts allowed; empty allows any host matching the pattern. */
  readonly allowedHosts: readonly string[];
  /** Template with `{host}` and `{video_call_id}`. */
  readonly tagUrlTemplate: string;
}

/** Thrown with a message fit to show to the caller. */
export class UuiDataError extends Error {
  override readonly name = 'UuiDataError';
}

/** Longest tag Pexip stores. */
export const MAX_TAG_LENGTH = 250;

const HEX = /^[0-9a-fA-F]+$/;
// A DNS label: it becomes a host name in the tag URL.
const HOST = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// The identifiers are base64 or base64url, with optional padding.
const VIDEO_CALL_ID = /^[A-Za-z0-9+/_-]+={0,2}$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Splits a `uuiData` value into its host and video call id.
 *
 * @throws UuiDataError when the value is not well-formed.
 * @example parseUuiData('6964264d54497a4e4455324c4463324e54517a4d67;encoding=hex')
 *   // → { host: 'id', videoCallId: 'MTIzNDU2LDc2NTQzMg' }
 */
export function parseUuiData(value: string): UuiParts {
  const [payload, ...parameters] = value.trim().split(';');
  checkParameters(parameters);

  if (payload.length === 0) {
    throw new UuiDataError('uuiData has no hex payload before the parameters');
  }
  if (!HEX.test(payload)) {
    throw new UuiDataError('uuiData payload must contain hex digits only');
  }
  if (payload.length % 2 !== 0) {
    throw new UuiDataError('uuiData payload has an odd number of hex digits');
  }

  const text = Buffer.from(payload, 'hex').toString('latin1');
  if (!PRINTABLE_ASCII.test(text)) {
    throw new UuiDataError('uuiData must decode to printable ASCII text');
  }

  const separator = text.indexOf('&');
  if (separator < 0) {
    throw new UuiDataError(
      'uuiData must decode to "<host>&<video_call_id>"; no "&" found',
    );
  }
  const host = text.slice(0, separator);
  const videoCallId = text.slice(separator + 1);
  if (host.length === 0 || videoCallId.length === 0) {
    throw new UuiDataError(
      'uuiData must decode to "<host>&<video_call_id>" with both parts non-empty',
    );
  }
  if (!HOST.test(host)) {
    throw new UuiDataError(
      'uuiData host must be 1–63 characters of a-z, 0-9 and "-", not starting or ending with "-"',
    );
  }
  if (!VIDEO_CALL_ID.test(videoCallId)) {
    throw new UuiDataError(
      'uuiData video call id must use the base64 or base64url alphabet',
    );
  }
  return { host, videoCallId };
}

/**
 * Builds the tag for a parsed `uuiData` and checks it against the rules.
 *
 * @throws UuiDataError for a host outside the allow-list or a tag too long.
 */
export function tagForUui(parts: UuiParts, rules: UuiRules): string {
  if (
    rules.allowedHosts.length > 0 &&
    !rules.allowedHosts.includes(parts.host)
  ) {
    throw new UuiDataError(
      `uuiData host "${parts.host}" is not an allowed host`,
    );
  }

  const tag = rules.tagUrlTemplate
    .replaceAll('{host}', parts.host)
    .replaceAll('{video_call_id}', parts.videoCallId);
  if (tag.length > MAX_TAG_LENGTH) {
    throw new UuiDataError(
      `the tag built from uuiData has ${tag.length} characters; at most ${MAX_TAG_LENGTH} fit`,
    );
  }
  return tag;
}

function checkParameters(parameters: string[]): void {
  for (const parameter of parameters) {
    const [key, ...rest] = parameter.split('=');
    const name = key.trim().toLowerCase();
    const setting = rest.join('=').trim().toLowerCase();
    // Other parameters (purpose, content, …) do not change the payload.
    if (name === 'encoding' && setting !== 'hex') {
      throw new UuiDataError(
        `uuiData encoding "${rest.join('=').trim()}" is not supported; only encoding=hex is`,
      );
    }
  }
}
