import { describe, expect, it } from 'vitest';
import { evictionLimits, insertWithEviction, type EvictionCounters, type EvictionPolicy } from './key-eviction.js';
import { isInvalidArgumentError } from './errors.js';

// State = [idleSince, cost]: idle at `at` when idleSince <= at.
type S = [number, number];
const policy = (maxKeys: number, pinned: string[] = []): EvictionPolicy<S> => ({
  maxKeys,
  idleMs: 10,
  isIdle: ([idleSince], at) => idleSince <= at,
  dropCost: ([, cost]) => cost,
  isPinned: (key) => pinned.includes(key),
});

describe('insertWithEviction', () => {
  it('drops an oldest key that has been idle for idleMs, and keeps busy ones (moved to the back)', () => {
    const states = new Map<string, S>([
      ['busy', [Infinity, 1]],
      ['idle', [0, 1]],
    ]);
    const counters: EvictionCounters = { droppedIdle: 0, droppedActive: 0 };
    expect(insertWithEviction(states, 'new', [Infinity, 1], 100, policy(10), counters)).toBeUndefined();
    expect([...states.keys()]).toEqual(['busy', 'new']);
    expect(counters).toEqual({ droppedIdle: 1, droppedActive: 0 });
  });

  it('does not drop a key that became idle less than idleMs ago', () => {
    const states = new Map<string, S>([['recent', [95, 1]]]);
    const counters: EvictionCounters = { droppedIdle: 0, droppedActive: 0 };
    insertWithEviction(states, 'new', [Infinity, 1], 100, policy(10), counters);
    expect(states.has('recent')).toBe(true);
    expect(counters.droppedIdle).toBe(0);
  });

  it('at maxKeys drops and reports the cheapest unpinned key, never a pinned or idle-but-pinned one', () => {
    const states = new Map<string, S>([
      ['pinned-idle', [0, 0]],
      ['pinned-cheap', [Infinity, 1]],
      ['cheap', [Infinity, 2]],
      ['dear', [Infinity, 9]],
    ]);
    const counters: EvictionCounters = { droppedIdle: 0, droppedActive: 0 };
    const dropped = insertWithEviction(states, 'new', [Infinity, 5], 100, policy(4, ['pinned-idle', 'pinned-cheap']), counters);
    expect(dropped).toBe('cheap');
    expect([...states.keys()].sort()).toEqual(['dear', 'new', 'pinned-cheap', 'pinned-idle']);
    expect(counters).toEqual({ droppedIdle: 0, droppedActive: 1 });
  });
});

describe('evictionLimits', () => {
  it('defaults and validates maxKeys and idleMs', () => {
    expect(evictionLimits({})).toEqual({ maxKeys: 100_000, idleMs: 1000 });
    for (const bad of [{ maxKeys: 0 }, { maxKeys: 1.5 }, { idleMs: -1 }, { idleMs: Number.NaN }]) {
      let caught: unknown;
      try {
        evictionLimits(bad);
      } catch (error) {
        caught = error;
      }
      expect(isInvalidArgumentError(caught)).toBe(true);
    }
  });
});
