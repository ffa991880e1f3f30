import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isInvalidOptionsError } from './errors.js';
import { lockKeys } from './scripts.js';
import { keySlot } from './slot.js';

describe('keySlot', () => {
  it('matches the slots Redis Cluster documents', () => {
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('123456789')).toBe(0x31c3 % 16384);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}')); // empty tag: whole key hashed
    expect(keySlot('foo{}{bar}')).not.toBe(keySlot('bar'));
  });
});

describe('lockKeys', () => {
  it('puts the lock and its fencing counter in one slot for any name', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }).filter((s) => !s.startsWith('}')), (name) => {
        const keys = lockKeys(name);
        expect(keySlot(keys.lock)).toBe(keySlot(keys.fence));
      }),
    );
  });

  it('refuses names whose keys would straddle slots, before anything is sent', () => {
    let caught: unknown;
    try {
      lockKeys('}oops');
    } catch (error) {
      caught = error;
    }
    expect(isInvalidOptionsError(caught)).toBe(true);
    expect(() => lockKeys('')).toThrow(/key must be a non-empty string/);
  });
});
