import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur3Key32, murmur3KeyH1, murmur3x86_128, murmur3x86_128Into, murmur3x86_32, murmur3x86_32Into } from './murmur3.js';

const hex = (words: Uint32Array): string => [...words].map((w) => w.toString(16).padStart(8, '0')).join('');

describe('MurmurHash3_x86_128', () => {
  it("reproduces SMHasher's verification value 0xB3ECE62A", () => {
    // SMHasher VerificationTest: hash keys {0}, {0,1}, ... {0..254} with seed 256 - length,
    // hash the concatenated 16-byte results with seed 0, read the first 4 bytes little-endian.
    const key = new Uint8Array(256);
    const hashes = new Uint8Array(16 * 256);
    const out = new Uint32Array(4);
    for (let i = 0; i < 256; i++) {
      key[i] = i;
      murmur3x86_128Into(key, i, 256 - i, out);
      hashes.set(new Uint8Array(out.buffer), i * 16);
    }
    murmur3x86_128Into(hashes, hashes.length, 0, out);
    expect(out[0]).toBe(0xb3ece62a);
  });

  it('matches published digests', () => {
    expect(hex(murmur3x86_128(''))).toBe('00000000000000000000000000000000');
    expect(hex(murmur3x86_128('The quick brown fox jumps over the lazy dog'))).toBe('2f1583c3ecee2c675d7bf66ce5e91d2c');
  });

  it('pins a few digests of our own (a change here changes every ring)', () => {
    expect(hex(murmur3x86_128('a'))).toBe('a794933c5556b01b5556b01b5556b01b');
    expect(hex(murmur3x86_128('abc'))).toBe('75cdc6d1a2b006a5a2b006a5a2b006a5');
    expect(hex(murmur3x86_128('hello world'))).toBe('c0b21a8814f3c1e11c0d151a9b0c9e2c');
  });

  it('hashes a string exactly as its UTF-8 bytes, on the in-place ASCII path and the encoding path', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), fc.integer({ min: 0, max: 0xffffffff }), (text, seed) => {
        const bytes = encoder.encode(text);
        expect(murmur3KeyH1(text, seed)).toBe(murmur3x86_128Into(bytes, bytes.length, seed));
        expect(murmur3KeyH1(bytes, seed)).toBe(murmur3x86_128(bytes, seed)[0]);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects keys that are neither strings nor bytes, and bad seeds', () => {
    expect(() => murmur3KeyH1(42 as unknown as string, 0)).toThrow(TypeError);
    expect(() => murmur3x86_128('x', -1)).toThrow(RangeError);
  });
});

describe('MurmurHash3_x86_32 (the ring\'s key hash)', () => {
  it("reproduces SMHasher's verification value 0xB0F57EE3", () => {
    const key = new Uint8Array(256);
    const hashes = new Uint8Array(4 * 256);
    const view = new DataView(hashes.buffer);
    for (let i = 0; i < 256; i++) {
      key[i] = i;
      view.setUint32(i * 4, murmur3x86_32Into(key, i, 256 - i), true);
    }
    expect(murmur3x86_32Into(hashes, hashes.length, 0)).toBe(0xb0f57ee3);
  });

  it('matches published digests', () => {
    expect(murmur3Key32('', 0)).toBe(0);
    expect(murmur3Key32('', 1)).toBe(0x514e28b7);
    expect(murmur3Key32('', 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3Key32('The quick brown fox jumps over the lazy dog', 0)).toBe(0x2e4ff723);
    expect(murmur3x86_32('Hello, world!', 1234)).toBe(0xfaf6cdb3);
    expect(murmur3x86_32(new TextEncoder().encode('ключ'))).toBe(murmur3x86_32('ключ'));
    expect(() => murmur3x86_32('x', 2 ** 32)).toThrow(RangeError);
  });

  it('hashes a string exactly as its UTF-8 bytes, on the in-place ASCII path and the encoding path', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), fc.integer({ min: 0, max: 0xffffffff }), (text, seed) => {
        const bytes = encoder.encode(text);
        expect(murmur3Key32(text, seed)).toBe(murmur3x86_32Into(bytes, bytes.length, seed));
        expect(murmur3Key32(bytes, seed)).toBe(murmur3x86_32Into(bytes, bytes.length, seed));
      }),
      { numRuns: 200 },
    );
    expect(() => murmur3Key32(42 as unknown as string, 0)).toThrow(TypeError);
  });
});
