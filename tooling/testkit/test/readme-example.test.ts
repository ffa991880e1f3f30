// The README's example, kept compiling and passing.
import { expect, it } from 'vitest';
import {
  createSingleNodeRegister, forEachSeed, linearizabilityFailure, randomNemesis,
  registerModel, registerWorkload, seedsFromEnv, simulate, uniform,
} from '../src/index.js';

it('register stays linearizable under crashes and partitions', () => {
  const { seedsRun } = forEachSeed({
    seeds: seedsFromEnv({ defaultSeeds: 100 }),
    packageName: '@bulwark/testkit',
    testName: 'register stays linearizable',
    run: (seed) => {
      const result = simulate({
        seed,
        nodes: [createSingleNodeRegister()],
        network: { defaults: { delay: uniform(0.5, 4), dropRate: 0.02, duplicateRate: 0.05 } },
        nemesis: randomNemesis({ faults: ['crash', 'partition', 'flaky-link'], maxCrashed: 1,
                                 targets: ['n1', 'client-0', 'client-1'] }),
        workload: registerWorkload({ clients: 2, operations: 40, timeoutMs: 30 }),
      });
      return linearizabilityFailure(result.history, registerModel()); // undefined = pass
    },
  });
  expect(seedsRun).toBeGreaterThan(0);
});
