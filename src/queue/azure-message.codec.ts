/**
 * How message bodies are written to Azure queues. `text` stores the room
 * name as it is; `base64` stores the base64 of its UTF-8 bytes, which is what
 * Azure Functions queue bindings write and expect to read.
 */
export type AzureMessageEncoding = 'text' | 'base64';

const CANONICAL_BASE64 =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Turns a message text into the body written to the queue.
 *
 * @example encodeMessage('room', 'base64') // 'cm9vbQ=='
 */
export function encodeMessage(
  text: string,
  encoding: AzureMessageEncoding,
): string {
  return encoding === 'base64'
    ? Buffer.from(text, 'utf8').toString('base64')
    : text;
}

/**
 * Turns a body read from the queue back into the message text.
 *
 * @returns the text, or undefined when `encoding` is `base64` and the body
 *   is not canonical base64 of UTF-8 text (a message someone wrote as plain
 *   text, for instance).
 * @example decodeMessage('cm9vbQ==', 'base64') // 'room'
 */
export function decodeMessage(
  body: string,
  encoding: AzureMessageEncoding,
): string | undefined {
  if (encoding === 'text') return body;

  // Node's decoder skips any character outside the alphabet, so a plain
  // room name would decode to garbage instead of failing: check first.
  if (!CANONICAL_BASE64.test(body)) return undefined;
  try {
    return strictUtf8.decode(Buffer.from(body, 'base64'));
  } catch {
    return undefined;
  }
}
