// Bounded per-key state without a timer per key, shared by Bulwark's in-memory
// limiters. Every insert looks at the oldest few keys: idle ones are dropped
// (their state carries no information), busy ones move to the back (second
// chance). At `maxKeys`, if no idle key turns up, the scanned key whose loss
// costs least is dropped and reported.

import { InvalidArgumentError } from './errors.js';

const SCAN_ON_INSERT = 2;
const SCAN_WHEN_FULL = 8;

export interface EvictionPolicy<S> {
  readonly maxKeys: number;
  /** A key must have been idle this long (ms) before it is dropped. */
  readonly idleMs: number;
  /** Whether `state` carried no information already at time `at` (dropping it then loses nothing). */
  isIdle(state: S, at: number): boolean;
  /** What dropping a live key costs at `now`; at `maxKeys` the cheapest scanned key goes. */
  dropCost(state: S, now: number): number;
  /** Keys that must not be dropped at all (e.g. ones with waiters). */
  isPinned(key: string): boolean;
}

/** Validates the `maxKeys` / `idleMs` options (defaults 100 000 and 1000 ms); throws InvalidArgumentError naming them. */
export function evictionLimits(options: { maxKeys?: number; idleMs?: number }): { maxKeys: number; idleMs: number } {
  const maxKeys = options.maxKeys ?? 100_000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new InvalidArgumentError(`maxKeys must be an integer >= 1, got ${String(maxKeys)}`);
  }
  const idleMs = options.idleMs ?? 1000;
  if (typeof idleMs !== 'number' || !(idleMs >= 0) || !Number.isFinite(idleMs)) {
    throw new InvalidArgumentError(`idleMs must be a finite number >= 0, got ${String(idleMs)}`);
  }
  return { maxKeys, idleMs };
}

export interface EvictionCounters {
  droppedIdle: number;
  droppedActive: number;
}

/**
 * Sets `key` in `states`, evicting first as described above. Returns the key
 * dropped while still active (to report it), if one was.
 */
export function insertWithEviction<S>(
  states: Map<string, S>,
  key: string,
  state: S,
  now: number,
  policy: EvictionPolicy<S>,
  counters: EvictionCounters,
): string | undefined {
  let droppedActive: string | undefined;
  if (sweep(states, SCAN_ON_INSERT, now, policy, counters) !== true && states.size >= policy.maxKeys) {
    const victim = sweep(states, SCAN_WHEN_FULL, now, policy, counters);
    if (victim !== undefined && victim !== true) {
      states.delete(victim);
      counters.droppedActive++;
      droppedActive = victim;
    }
  }
  states.set(key, state);
  return droppedActive;
}

/** Examines up to `count` of the oldest keys. Returns true if an idle one was dropped, else the cheapest examined key. */
function sweep<S>(
  states: Map<string, S>,
  count: number,
  now: number,
  policy: EvictionPolicy<S>,
  counters: EvictionCounters,
): true | string | undefined {
  let cheapest: string | undefined;
  let cheapestCost = Number.POSITIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const first = states.entries().next();
    if (first.done === true) break;
    const [oldKey, oldState] = first.value;
    states.delete(oldKey);
    const pinned = policy.isPinned(oldKey);
    if (!pinned && policy.isIdle(oldState, now - policy.idleMs)) {
      counters.droppedIdle++;
      return true;
    }
    states.set(oldKey, oldState);
    const cost = policy.dropCost(oldState, now);
    if (cost < cheapestCost && !pinned) {
      cheapestCost = cost;
      cheapest = oldKey;
    }
  }
  return cheapest;
}
