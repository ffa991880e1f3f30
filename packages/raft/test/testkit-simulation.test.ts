import { forEachSeed, kvModel, linearizabilityFailure, randomNemesis, seedsFromEnv, simulate, uniform } from '@bulwark/testkit';
import { describe, expect, it } from 'vitest';
import { kvWorkload, Observer, raftSimNode } from './support/testkit-node.js';

// The same KV store driven by @bulwark/testkit's simulator: its network (delays, loss,
// duplication, reordering), its nemesis (partitions, crashes with lost unsynced writes, clock
// jumps and drift) and its clients; histories checked with its linearizability checker.
const seeds = seedsFromEnv({ defaultSeeds: 50 });

describe('simulation with @bulwark/testkit', () => {
  for (const size of [3, 5] as const) {
    it(`${seeds.length} seeds on ${size} nodes stay linearizable with every invariant`, { timeout: 600_000 }, () => {
      let operations = 0;
      let ok = 0;
      const { seedsRun } = forEachSeed({
        seeds,
        packageName: '@bulwark/raft',
        testName: `${size} nodes stay linearizable`,
        run: (seed) => {
          const observer = new Observer();
          const voters = Array.from({ length: size }, (_, i) => i + 1);
          const result = simulate({
            seed,
            nodes: voters.map((id) => ({ id: `n${id}`, node: raftSimNode(id, voters, observer), tickMs: 10 })),
            network: { defaults: { delay: uniform(1, 8), dropRate: 0.03, duplicateRate: 0.03 } },
            nemesis: randomNemesis({ faults: ['crash', 'partition', 'flaky-link', 'clock'], maxDrift: 0.05 }),
            workload: kvWorkload(size, 60),
            recordTrace: false,
          });
          operations += result.history.length;
          ok += result.history.filter((o) => o.status === 'ok').length;
          if (observer.violations.length > 0) return observer.violations.join('\n');
          return linearizabilityFailure(result.history, kvModel());
        },
      });
      expect(seedsRun).toBe(seeds.length);
      console.log(`testkit simulation (${size} nodes): ${seedsRun} seeds, ${operations} operations, ${ok} ok`);
      expect(ok).toBeGreaterThan(operations / 4);
    });
  }
});
