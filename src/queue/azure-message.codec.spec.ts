import { decodeMessage, encodeMessage } from './azure-message.codec';

describe('Azure message codec', () => {
  it('leaves text untouched in text mode', () => {
    expect(encodeMessage('Zm9v+/ é', 'text')).toBe('Zm9v+/ é');
    expect(decodeMessage('Zm9v+/ é', 'text')).toBe('Zm9v+/ é');
  });

  it('writes the base64 of the UTF-8 bytes, as Azure Functions bindings do', () => {
    expect(encodeMessage('room', 'base64')).toBe('cm9vbQ==');
    expect(encodeMessage('salle-é', 'base64')).toBe('c2FsbGUtw6k=');
  });

  it('reads back what it wrote in base64 mode', () => {
    const name = 'q3nB0_xYk-2mLw9aZc4TgQ';

    expect(decodeMessage(encodeMessage(name, 'base64'), 'base64')).toBe(name);
  });

  it('refuses a room name written as plain text to a base64 queue', () => {
    // 16 random bytes in base64url: 22 characters, never canonical base64.
    expect(decodeMessage('q3nB0_xYk-2mLw9aZc4TgQ', 'base64')).toBeUndefined();
    expect(decodeMessage('q3nB0xYk2mLw9aZc4TgQAB', 'base64')).toBeUndefined();
  });

  it('refuses base64 whose bytes are not UTF-8 text', () => {
    expect(decodeMessage('/w==', 'base64')).toBeUndefined();
  });
});
