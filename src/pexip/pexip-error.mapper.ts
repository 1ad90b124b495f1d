import type { AxiosResponse } from 'axios';
import {
  PexipError,
  PexipNotFoundError,
  PexipRejectedError,
  PexipUnavailableError,
} from './pexip.errors';

/**
 * Turns a Pexip answer the adapter did not expect into one of the adapter's
 * errors, reading Pexip's body in each of the shapes it uses:
 *
 * - `{"conference": {"name": ["… already exists."]}}`: validation, keyed by
 *   the resource name, then by field;
 * - `{"error": "…"}`: a malformed request (bad filter, bad limit, bad URI);
 * - `{"error_message": "…"}`: the canned text of a server error.
 *
 * @param action what was asked, for the message: `PATCH conference 42`.
 * @example throw errorForResponse(response, 'GET conference 42');
 */
export function errorForResponse(
  response: AxiosResponse,
  action: string,
): PexipError {
  const status = response.status;
  const { message, fieldErrors } = readErrorBody(response.data);

  if (status === 400) {
    return new PexipRejectedError(
      `Pexip rejected ${action}: ${message || 'no reason given'}`,
      fieldErrors,
    );
  }

  if (status === 404) {
    return new PexipNotFoundError(`Pexip found nothing for ${action}`);
  }

  return new PexipUnavailableError(
    `Pexip answered ${status} to ${action}${message ? `: ${message}` : ''}`,
    status,
  );
}

/** What a Pexip error body says, as one line plus field messages. */
export interface PexipErrorBody {
  /** One line for a log or an error message; empty when the body is. */
  message: string;
  /** Field → messages; empty when Pexip did not name a field. */
  fieldErrors: Record<string, string[]>;
}

const MAX_TEXT = 300;

/**
 * Reads an error body in any of Pexip's shapes (see `errorForResponse`).
 * Anything else is quoted, shortened, as the message.
 */
export function readErrorBody(data: unknown): PexipErrorBody {
  if (typeof data === 'string') {
    return { message: shorten(data.trim()), fieldErrors: {} };
  }
  if (!isRecord(data)) {
    return { message: '', fieldErrors: {} };
  }

  const single = data.error ?? data.error_message;
  if (typeof single === 'string') {
    return { message: shorten(single), fieldErrors: fieldNamedIn(single) };
  }

  const fieldErrors: Record<string, string[]> = {};
  for (const perResource of Object.values(data)) {
    if (!isRecord(perResource)) {
      continue;
    }
    for (const [field, messages] of Object.entries(perResource)) {
      const list = toMessages(messages);
      if (list.length > 0) {
        fieldErrors[field] = [...(fieldErrors[field] ?? []), ...list];
      }
    }
  }

  const message = Object.entries(fieldErrors)
    .map(([field, messages]) => `${field}: ${messages.join(' ')}`)
    .join('; ');
  return {
    message: shorten(message || JSON.stringify(data)),
    fieldErrors,
  };
}

/** True when any message says the object already exists. */
export function saysAlreadyExists(error: PexipRejectedError): boolean {
  const messages = [error.message, ...Object.values(error.fieldErrors).flat()];
  return messages.some((text) => /already exists/i.test(text));
}

// Tastypie words its hydration errors as "The 'name' field has no data …";
// naming the field lets the API answer with it like any validation error.
function fieldNamedIn(text: string): Record<string, string[]> {
  const match = /^The '([A-Za-z0-9_]+)' field\b/.exec(text);
  return match ? { [match[1]]: [text] } : {};
}

function toMessages(value: unknown): string[] {
  if (typeof value === 'string') {
    return [value];
  }
  if (Array.isArray(value)) {
    return value.map((item) =>
      typeof item === 'string' ? item : JSON.stringify(item),
    );
  }
  return [];
}

function shorten(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
