import { describe, expect, it } from 'vitest';
import { forEachSeed, isSeedFailureError, replayCommand, seedsFromEnv } from './seeds.js';
import type { SeedFailureError } from './seeds.js';

describe('seedsFromEnv', () => {
  it('uses SEED, then SEEDS, then the default set', () => {
    expect(seedsFromEnv({ defaultSeeds: 3, env: {} })).toEqual([1, 2, 3]);
    expect(seedsFromEnv({ defaultSeeds: [7, 'x'], env: {} })).toEqual([7, 'x']);
    expect(seedsFromEnv({ defaultSeeds: 3, env: { SEED: '1234' } })).toEqual([1234]);
    expect(seedsFromEnv({ defaultSeeds: 3, env: { SEED: 'abc' } })).toEqual(['abc']);
    expect(seedsFromEnv({ defaultSeeds: 3, env: { SEEDS: '5' } })).toEqual([1, 2, 3, 4, 5]);
    expect(seedsFromEnv({ defaultSeeds: 3, env: { SEEDS: '10..12' } })).toEqual([10, 11, 12]);
    expect(seedsFromEnv({ defaultSeeds: 3, env: { SEED: '9', SEEDS: '100' } })).toEqual([9]);
    expect(() => seedsFromEnv({ defaultSeeds: 3, env: { SEEDS: 'many' } })).toThrow(RangeError);
  });
});

describe('forEachSeed', () => {
  it('stops at the first failing seed and names the replay command', () => {
    const ran: unknown[] = [];
    let caught: unknown;
    try {
      forEachSeed({
        seeds: [1, 2, 3, 4],
        packageName: '@bulwark/raft',
        testName: 'elects one leader',
        log: false,
        run: (seed) => {
          ran.push(seed);
          return seed === 3 ? 'two leaders in term 4' : undefined;
        },
      });
    } catch (error) {
      caught = error;
    }
    expect(ran).toEqual([1, 2, 3]);
    expect(isSeedFailureError(caught)).toBe(true);
    const failure = caught as SeedFailureError;
    expect(failure.code).toBe('ERR_SEED_FAILURE');
    expect(failure.seed).toBe(3);
    expect(failure.replay).toBe(`SEED=3 pnpm --filter @bulwark/raft test -t 'elects one leader'`);
    expect(failure.message).toContain('two leaders in term 4');
    expect(failure.message).toContain('SEED=3 pnpm --filter @bulwark/raft test');
  });

  it('turns exceptions into seed failures and counts passing seeds', () => {
    expect(() =>
      forEachSeed({
        seeds: ['s'],
        packageName: 'p',
        log: false,
        run: () => {
          throw new Error('boom');
        },
      }),
    ).toThrow(/seed s failed \(replay: SEED='s' pnpm --filter p test\)\n.*boom/);
    expect(forEachSeed({ seeds: [1, 2], packageName: 'p', run: () => undefined }).seedsRun).toBe(2);
    expect(replayCommand("it's", 'p')).toBe(`SEED='it'\\''s' pnpm --filter p test`);
    expect(isSeedFailureError(new Error('x'))).toBe(false);
  });
});
