// The demonstration target: the simulator plus the checker must catch a broken
// replicated register within a few seeds, catch a register that acknowledges
// before fsync once crashes are in play, and pass a correct one on every seed.
import { describe, expect, it } from 'vitest';
import {
  createBrokenReplicatedRegister,
  createSingleNodeRegister,
  forEachSeed,
  linearizabilityFailure,
  randomNemesis,
  registerModel,
  registerWorkload,
  seedsFromEnv,
  simulate,
  uniform,
  type SimSeed,
} from '../src/index.js';

const PACKAGE = '@bulwark/testkit';

function firstFailingSeed(run: (seed: number) => string | undefined, maxSeeds: number): { seed: number; report: string } | undefined {
  for (let seed = 1; seed <= maxSeeds; seed++) {
    const report = run(seed);
    if (report !== undefined) return { seed, report };
  }
  return undefined;
}

function runBrokenReplicated(seed: number): string | undefined {
  const result = simulate({
    seed,
    nodes: createBrokenReplicatedRegister({ replicas: 3 }),
    workload: registerWorkload({ clients: 3, operations: 60, readFromAny: true }),
  });
  return linearizabilityFailure(result.history, registerModel());
}

// Crashes with every crash mode, partitions between the node and clients, lossy and duplicating links.
// Odd seeds write few distinct values (CAS often succeeds), even seeds nearly unique ones
// (a lost write cannot hide behind an equal value).
function faultyRun(seed: SimSeed) {
  return simulate({
    seed,
    nodes: [createSingleNodeRegister()],
    network: { defaults: { delay: uniform(0.5, 4), dropRate: 0.02, duplicateRate: 0.05 } },
    nemesis: randomNemesis({
      faults: ['crash', 'partition', 'partition-one-way', 'flaky-link', 'slow-link'],
      targets: ['n1', 'client-0', 'client-1', 'client-2'],
      maxCrashed: 1,
      crashModes: ['lose-unsynced', 'keep-prefix', 'torn'],
      interval: uniform(5, 40),
    }),
    workload: registerWorkload({ clients: 3, operations: 40, timeoutMs: 30, valueRange: Number(seed) % 2 === 1 ? 5 : 1000 }),
    recordTrace: false,
  });
}

// Crash-heavy runs for the register that acknowledges before fsync.
function crashRun(seed: number, ackBeforeSync: boolean) {
  return simulate({
    seed,
    nodes: [createSingleNodeRegister({ ackBeforeSync, commitEveryMs: 5 })],
    network: { defaults: { delay: uniform(0.5, 4) } },
    nemesis: randomNemesis({ faults: ['crash'], maxCrashed: 1, interval: uniform(10, 30) }),
    workload: registerWorkload({ clients: 3, operations: 60, timeoutMs: 30, valueRange: 1000 }),
    recordTrace: false,
  });
}

describe('demonstration: broken replicated register (reads from any replica)', () => {
  it('is caught within a few seeds, with an explanation and a timeline', () => {
    const found = firstFailingSeed(runBrokenReplicated, 5);
    expect(found, 'stale reads were not detected in seeds 1..5').toBeDefined();
    expect(found!.report).toMatch(/not linearizable/);
    expect(found!.report).toMatch(/read → /);
    expect(found!.report).toMatch(/#\d+ p/); // the timeline legend
  });
});

describe('demonstration: single-node register that acknowledges before fsync', () => {
  it('is caught once crashes lose acknowledged writes', () => {
    const found = firstFailingSeed((seed) => linearizabilityFailure(crashRun(seed, true).history, registerModel()), 5);
    expect(found, 'lost acknowledged writes were not detected in seeds 1..5').toBeDefined();
  });

  it('the same crash schedule passes when the register syncs before acknowledging', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const result = crashRun(seed, false);
      expect(result.stats.crashes).toBeGreaterThan(0);
      expect(linearizabilityFailure(result.history, registerModel()), `seed ${seed}`).toBeUndefined();
    }
  });
});

describe('demonstration: correct single-node register', () => {
  // SEED=n replays one seed, SEEDS=N runs seeds 1..N (the timeout grows with N).
  const seeds = seedsFromEnv({ defaultSeeds: 1500 });
  it('passes every seed under crashes, partitions, loss and duplication', { timeout: Math.max(60_000, seeds.length * 30) }, () => {
    let operations = 0;
    let crashes = 0;
    let indeterminate = 0;
    let duplicated = 0;
    const { seedsRun } = forEachSeed({
      seeds,
      packageName: PACKAGE,
      testName: 'correct single-node register',
      run: (seed) => {
        const result = faultyRun(seed);
        operations += result.history.length;
        crashes += result.stats.crashes;
        duplicated += result.stats.messagesDuplicated;
        indeterminate += result.history.filter((op) => op.status === 'info').length;
        return linearizabilityFailure(result.history, registerModel());
      },
    });
    expect(seedsRun).toBe(seeds.length);
    expect(operations).toBe(seeds.length * 40);
    // The runs must actually exercise faults, or passing means nothing (skipped for SEED=n).
    const enough = seeds.length >= 100;
    expect(!enough || crashes > seeds.length / 2, `crashes: ${crashes}`).toBe(true);
    expect(!enough || indeterminate > 0, `indeterminate: ${indeterminate}`).toBe(true);
    expect(!enough || duplicated > 0, `duplicated: ${duplicated}`).toBe(true);
  });
});
