import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDuplicateNodeError, isEmptyRingError, isInvalidOptionsError } from './errors.js';
import { JumpHash, jumpHash } from './jump-hash.js';

/** The paper's code, transcribed literally with BigInt. */
function referenceJump(key: bigint, buckets: number): number {
  let k = BigInt.asUintN(64, key);
  let b = -1n;
  let j = 0n;
  while (j < BigInt(buckets)) {
    b = j;
    k = BigInt.asUintN(64, k * 2862933555777941757n + 1n);
    j = BigInt(Math.floor(Number(b + 1n) * (Number(1n << 31n) / Number((k >> 33n) + 1n))));
  }
  return Number(b);
}

describe('jumpHash', () => {
  it('matches a literal BigInt transcription of the paper for 64-bit keys', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 1, max: 100_000 }), (key, buckets) => {
        expect(jumpHash(key, buckets)).toBe(referenceJump(key, buckets));
      }),
      { numRuns: 2000 },
    );
    expect(jumpHash(0n, 1)).toBe(0);
    expect(jumpHash(0xffffffffffffffffn, 1 << 20)).toBe(referenceJump(0xffffffffffffffffn, 1 << 20));
  });

  it('pins string keys (golden)', () => {
    const keys = ['user:1', 'user:2', 'user:3', 'session:abcdef', 'ключ', '🙂', '', 'a-much-longer-key-that-spans-several-murmur-blocks:0123456789'];
    expect(keys.map((key) => jumpHash(key, 10))).toEqual([0, 3, 2, 0, 1, 1, 3, 4]);
  });

  it('moves a key only to the new bucket when buckets grow by one', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 5000 }), (key, buckets) => {
        const after = jumpHash(key, buckets + 1);
        expect([buckets, jumpHash(key, buckets)]).toContain(after);
      }),
      { numRuns: 500 },
    );
  });

  it('is balanced and moves 1/(n+1) of keys on growth', () => {
    const counts = new Array<number>(10).fill(0);
    let moved = 0;
    for (let i = 0; i < 100_000; i++) {
      const bucket = jumpHash(`key:${i}`, 10);
      counts[bucket]!++;
      if (jumpHash(`key:${i}`, 11) !== bucket) moved++;
    }
    expect(Math.max(...counts) / 10_000).toBeLessThan(1.03);
    expect(Math.abs(moved / 100_000 - 1 / 11)).toBeLessThan(0.005);
  });

  it('validates buckets', () => {
    for (const buckets of [0, -1, 1.5, Number.NaN, 2 ** 31]) expect(isInvalidOptionsError(catchError(() => jumpHash('k', buckets)))).toBe(true);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('JumpHash', () => {
  it('maps keys to node ids by bucket and only grows or shrinks at the end', () => {
    const jump = new JumpHash({ nodes: ['s0', 's1', 's2'] });
    expect(jump.size).toBe(3);
    expect(jump.nodes()).toEqual(['s0', 's1', 's2']);
    expect(jump.bucketOf('s2')).toBe(2);
    expect(jump.lookup('user:2')).toBe(`s${jumpHash('user:2', 3)}`);
    jump.add('s3');
    expect(jump.has('s3')).toBe(true);
    expect(isInvalidOptionsError(catchError(() => jump.remove('s1')))).toBe(true);
    expect(jump.remove('nope')).toBe(false);
    expect(jump.remove('s3')).toBe(true);
    expect(isDuplicateNodeError(catchError(() => jump.add('s0')))).toBe(true);
    expect(isEmptyRingError(catchError(() => new JumpHash().lookup('k')))).toBe(true);
  });
});
