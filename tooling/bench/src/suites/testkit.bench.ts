// @bulwark/testkit: how long the linearizability checker takes on a 10,000-operation,
// 10-client, 100-key KV history (the bar: seconds). There is no JavaScript peer
// to compare with (Knossos and Porcupine are Clojure and Go), so this suite reports
// bulwark alone: one timed task and a report with the verdicts and search effort.
import { checkLinearizability, generateKvHistory, kvModel, type KvInput, type KvOutput, type Operation } from '@bulwark/testkit';
import { performance } from 'node:perf_hooks';
import { defineSuite } from '../harness.js';

const OPERATIONS = 10_000;
const CLIENTS = 10;
const KEYS = 100;

const history = generateKvHistory({ seed: 1, operations: OPERATIONS, clients: CLIENTS, keys: KEYS });
const withTimeouts = generateKvHistory({ seed: 2, operations: OPERATIONS, clients: CLIENTS, keys: KEYS, infoRatio: 0.02 });

/** The same history with one late read corrupted: the checker must find it. */
function corrupt(ops: readonly Operation<KvInput, KvOutput>[]): Operation<KvInput, KvOutput>[] {
  const victim = ops.find((op) => op.id > ops.length * 0.9 && op.status === 'ok' && op.input.type === 'get');
  if (!victim) throw new Error('no read to corrupt');
  return ops.map((op) => (op.id === victim.id ? { ...op, output: -1 } : op));
}
const corrupted = corrupt(history);

function check(ops: readonly Operation<KvInput, KvOutput>[], expected: 'ok' | 'illegal'): void {
  const result = checkLinearizability({ model: kvModel(), history: ops, timeBudgetMs: 60_000 });
  if (result.verdict !== expected) throw new Error(`expected ${expected}, got ${result.verdict}`);
}

function timeOnce(ops: readonly Operation<KvInput, KvOutput>[]): { ms: number; verdict: string; steps: number; partitions: number } {
  const t0 = performance.now();
  const result = checkLinearizability({ model: kvModel(), history: ops, timeBudgetMs: 60_000, stopAtFirstIllegal: false });
  const ms = performance.now() - t0;
  const steps = result.partitions.reduce((sum, p) => sum + (p.searchSteps ?? 0), 0);
  return { ms, verdict: result.verdict, steps, partitions: result.partitions.length };
}

export const suite = defineSuite({
  name: 'testkit',
  tasks: [
    {
      name: `check a ${OPERATIONS}-op, ${CLIENTS}-client, ${KEYS}-key KV history (linearizable)`,
      rounds: 3,
      durationMs: 1_500,
      cases: [{ library: 'bulwark', fn: () => check(history, 'ok') }],
    },
    {
      name: `check the same history with 2% timed-out (info) operations`,
      rounds: 3,
      durationMs: 1_500,
      cases: [{ library: 'bulwark', fn: () => check(withTimeouts, 'ok') }],
    },
    {
      name: `check the history with one corrupted read (illegal)`,
      rounds: 3,
      durationMs: 1_500,
      cases: [{ library: 'bulwark', fn: () => check(corrupted, 'illegal') }],
    },
  ],
  reports: [
    {
      name: `linearizability check, ${OPERATIONS} ops / ${CLIENTS} clients / ${KEYS} keys (one cold run each)`,
      collect: () => {
        const figures: Record<string, Record<string, number | string>> = {};
        for (const [label, ops] of [
          ['linearizable', history],
          ['2% info ops', withTimeouts],
          ['one corrupted read', corrupted],
        ] as const) {
          const r = timeOnce(ops);
          figures[`bulwark (${label})`] = { ms: Math.round(r.ms), verdict: r.verdict, searchSteps: r.steps, partitions: r.partitions };
        }
        return figures;
      },
    },
  ],
});
