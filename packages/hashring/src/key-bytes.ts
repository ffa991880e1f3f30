// Keys are hashed as bytes: a string as its UTF-8 encoding, so `'é'` and
// `new TextEncoder().encode('é')` land on the same node in every process and
// in any other language that hashes the UTF-8 bytes. Strings are encoded into
// one reused buffer (ASCII by a plain loop, anything else by encodeInto), so
// a lookup allocates nothing.

/** A key the placement functions accept. */
export type Key = string | Uint8Array;

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

/** Bytes of the last `keyBytes` call when the key was a string. */
export let encodedLength = 0;

/**
 * Returns a byte view of `key` (the key itself when it is already bytes) and
 * sets `encodedLength`. The returned buffer is reused by the next call.
 */
export function keyBytes(key: Key): Uint8Array {
  if (typeof key !== 'string') {
    if (!(key instanceof Uint8Array)) throw new TypeError('key must be a string or a Uint8Array');
    encodedLength = key.length;
    return key;
  }
  const length = key.length;
  if (length * 3 > scratch.length) scratch = new Uint8Array(Math.max(length * 3, scratch.length * 2));
  const buffer = scratch;
  for (let i = 0; i < length; i++) {
    const code = key.charCodeAt(i);
    if (code >= 0x80) {
      // Not ASCII: let the platform encoder do UTF-8 (lone surrogates become U+FFFD).
      encodedLength = encoder.encodeInto(key, buffer).written;
      return buffer;
    }
    buffer[i] = code;
  }
  encodedLength = length;
  return buffer;
}
