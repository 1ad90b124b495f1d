import { randomBytes, randomInt } from 'node:crypto';

/**
 * The random parts of a new room. Names and PINs come from the operating
 * system's cryptographic source: a room name is the only thing that stands
 * between a stranger and a citizen's video call, so it must be unguessable.
 */

/** 16 random bytes as base64url without padding: 22 characters. */
export function newRoomName(): string {
  return randomBytes(16).toString('base64url');
}

/** A PIN of `length` decimal digits, each drawn uniformly. */
export function newPin(length: number): string {
  let pin = '';
  for (let i = 0; i < length; i++) {
    pin += String(randomInt(10));
  }
  return pin;
}

/**
 * A host PIN and a guest PIN that differ, as Pexip requires; with equal
 * lengths they could collide, so the guest PIN is drawn again until not.
 */
export function newPins(
  hostLength: number,
  guestLength: number,
): { pin: string; guestPin: string } {
  const pin = newPin(hostLength);
  let guestPin = newPin(guestLength);
  while (guestPin === pin) {
    guestPin = newPin(guestLength);
  }
  return { pin, guestPin };
}
