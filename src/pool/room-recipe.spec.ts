import { newPin, newPins, newRoomName } from './room-recipe';

describe('room recipe', () => {
  it('makes 22-character base64url names without padding', () => {
    const names = new Set(Array.from({ length: 1000 }, () => newRoomName()));

    expect(names.size).toBe(1000);
    for (const name of names) {
      expect(name).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(name, 'base64url')).toHaveLength(16);
    }
  });

  it('makes PINs of the requested length from decimal digits only', () => {
    expect(newPin(6)).toMatch(/^[0-9]{6}$/);
    expect(newPin(20)).toMatch(/^[0-9]{20}$/);
  });

  it('uses every digit in every position over many PINs', () => {
    const seen = Array.from({ length: 4 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) {
      [...newPin(4)].forEach((digit, position) => seen[position].add(digit));
    }

    expect(seen.map((digits) => digits.size)).toEqual([10, 10, 10, 10]);
  });

  it('never gives the guest the host PIN, even at equal lengths', () => {
    for (let i = 0; i < 5000; i++) {
      const { pin, guestPin } = newPins(4, 4);
      expect(guestPin).not.toBe(pin);
    }
  });
});
