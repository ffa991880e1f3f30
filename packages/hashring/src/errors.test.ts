import { describe, expect, it } from 'vitest';
import {
  DuplicateNodeError,
  EmptyRingError,
  InsufficientNodesError,
  InvalidOptionsError,
  InvalidWeightError,
  isDuplicateNodeError,
  isEmptyRingError,
  isHashRingError,
  isInsufficientNodesError,
  isInvalidOptionsError,
  isInvalidWeightError,
} from './errors.js';

describe('errors', () => {
  it('carry stable codes and are recognised only by their own guard', () => {
    const errors = [
      [new EmptyRingError(), 'ERR_HASHRING_EMPTY', isEmptyRingError],
      [new DuplicateNodeError('a'), 'ERR_HASHRING_DUPLICATE_NODE', isDuplicateNodeError],
      [new InvalidWeightError('a', 0), 'ERR_HASHRING_INVALID_WEIGHT', isInvalidWeightError],
      [new InvalidOptionsError('virtualNodes', 'an integer', Number.NaN), 'ERR_HASHRING_INVALID_OPTIONS', isInvalidOptionsError],
      [new InsufficientNodesError(3, 2), 'ERR_HASHRING_INSUFFICIENT_NODES', isInsufficientNodesError],
    ] as const;
    const guards = errors.map(([, , guard]) => guard);
    for (const [error, code, guard] of errors) {
      expect(error.code).toBe(code);
      expect(error).toBeInstanceOf(Error);
      expect(isHashRingError(error)).toBe(true);
      expect(guards.filter((g) => (g as (e: unknown) => boolean)(error))).toEqual([guard]);
    }
    expect(isHashRingError(new Error('x'))).toBe(false);
    expect(isHashRingError({ code: 'ERR_HASHRING_EMPTY' })).toBe(false);
  });

  it('validation errors are RangeErrors that name what was wrong', () => {
    expect(new InvalidWeightError('n1', -1)).toBeInstanceOf(RangeError);
    expect(new InvalidOptionsError('virtualNodes', 'an integer from 1 to 1000000', Infinity).message).toMatch(/virtualNodes.*1 to 1000000.*Infinity/);
    expect(new InsufficientNodesError(5, 2)).toMatchObject({ requested: 5, available: 2 });
  });
});
