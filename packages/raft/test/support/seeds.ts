import { checkLinearizability, kvModel } from '@bulwark/testkit';
import { expect, it } from 'vitest';
import { configForSeed, runSimulation } from './kv-sim.js';

/**
 * Registers the seeded simulation for one cluster size. Default: `defaultSeeds` seeds;
 * SEED=<n> replays one seed, SEEDS=<n> runs n seeds (from SEED_START, default 1).
 */
export function simulationSuite(nodes: 3 | 5, defaultSeeds: number, file: string): void {
  const single = process.env.SEED;
  const count = Number(process.env.SEEDS ?? String(defaultSeeds));
  const first = Number(process.env.SEED_START ?? '1');
  const seeds = single !== undefined ? [Number(single)] : Array.from({ length: count }, (_, i) => first + i);

  it(`${seeds.length} seeds on ${nodes} nodes: invariants on every step, liveness after healing, linearizable histories`, { timeout: 600_000 }, () => {
    const model = kvModel();
    let ops = 0;
    let completed = 0;
    const totals = { elections: 0, crashes: 0, snapshotsSent: 0, reads: 0, writes: 0, confChanges: 0, maxTicksToCommitAfterHeal: 0 };
    for (const seed of seeds) {
      const replay = `SEED=${seed} pnpm exec vitest run ${file}`;
      let result;
      try {
        result = runSimulation(configForSeed(seed, nodes));
      } catch (e) {
        throw new Error(`seed ${seed} failed (replay: ${replay}): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      const check = checkLinearizability({ model, history: result.history, timeBudgetMs: 5_000 });
      if (check.verdict !== 'ok') {
        throw new Error(`seed ${seed}: history is ${check.verdict} (replay: ${replay}): ${check.explanation?.message ?? check.reason ?? ''}`);
      }
      totals.elections += result.stats.elections;
      totals.crashes += result.stats.crashes;
      totals.snapshotsSent += result.stats.snapshotsSent;
      totals.reads += result.stats.reads;
      totals.writes += result.stats.writes;
      totals.confChanges += result.stats.confChanges;
      totals.maxTicksToCommitAfterHeal = Math.max(totals.maxTicksToCommitAfterHeal, result.stats.healedLeaderAfterTicks);
      ops += result.history.length;
      completed += result.history.filter((o) => o.status === 'ok').length;
    }
    console.log(`simulation (${nodes} nodes): ${seeds.length} seeds, ${ops} client operations (${completed} ok), ${JSON.stringify(totals)}`);
    expect(ops).toBeGreaterThan(0);
    expect(completed).toBeGreaterThan(0);
  });
}
