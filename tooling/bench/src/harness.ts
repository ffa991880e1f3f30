// The harness behind `pnpm bench`: runs named suites whose tasks measure
// @bulwark packages side by side with peer libraries in one process, in
// interleaved rounds, and reports medians, p99 and the ratio to each peer.
import { performance } from 'node:perf_hooks';

/** What one case does; exactly one of `fn` or `run` is given. */
export interface BenchCase {
  /** `'bulwark'` for ours, otherwise the peer's npm name (e.g. `'opossum'`). */
  library: string;
  /** Optional label when one library appears twice (e.g. `'defaults'`, `'stackless'`). */
  variant?: string;
  setup?: () => unknown;
  teardown?: () => unknown;
  /** One operation, sync or async (awaited sequentially). The harness loops it in timed batches. */
  fn?: () => unknown;
  /**
   * A custom workload (e.g. 64 concurrent callers) that runs for about `durationMs` and
   * reports how many operations completed, optionally with per-operation latencies in ns.
   */
  run?: (options: { durationMs: number }) => Promise<{ ops: number; latenciesNs?: number[] }>;
}

export interface BenchTask {
  name: string;
  cases: BenchCase[];
  /** Rounds per case (interleaved across cases). Default 5. */
  rounds?: number;
  /** Measured time per case per round. Default 300 ms. */
  durationMs?: number;
}

/** A non-timing comparison (balance, memory, accuracy): each library reports named figures. */
export interface BenchReport {
  name: string;
  collect: () => Promise<Record<string, Record<string, number | string>>> | Record<string, Record<string, number | string>>;
}

export interface BenchSuite {
  /** File-friendly name, e.g. `'hashring'`; results go to bench/results/<name>.json. */
  name: string;
  setup?: () => unknown;
  teardown?: () => unknown;
  tasks: BenchTask[];
  reports?: BenchReport[];
}

export interface CaseResult {
  library: string;
  variant?: string;
  medianNsPerOp: number;
  p99NsPerOp: number;
  /** What the p99 is over: per-operation latencies, or per-batch means for micro benchmarks. */
  p99Of: 'operation' | 'batch-mean';
  opsPerSec: number;
  rounds: number[];
  totalOps: number;
  /** bulwark's speed relative to this case: > 1 means bulwark is faster. */
  ratioToBulwark?: number;
}

export interface TaskResult {
  name: string;
  cases: CaseResult[];
}

export interface SuiteResult {
  suite: string;
  date: string;
  machine: { cpus: number; cpuModel: string; node: string; platform: string; memoryGiB: number };
  tasks: TaskResult[];
  reports: { name: string; figures: Record<string, Record<string, number | string>> }[];
}

export function defineSuite(suite: BenchSuite): BenchSuite {
  return suite;
}

/**
 * A `run` workload: `callers` concurrent loops of `op` for `durationMs`, each
 * operation's latency recorded (so the p99 is per operation).
 */
export function concurrentCallers(callers: number, op: (caller: number) => Promise<unknown>): NonNullable<BenchCase['run']> {
  return async ({ durationMs }) => {
    const latenciesNs: number[] = [];
    const end = performance.now() + durationMs;
    let ops = 0;
    await Promise.all(
      Array.from({ length: callers }, async (_, caller) => {
        while (performance.now() < end) {
          const t0 = process.hrtime.bigint();
          await op(caller);
          latenciesNs.push(Number(process.hrtime.bigint() - t0));
          ops++;
        }
      }),
    );
    return { ops, latenciesNs };
  };
}

/** A report of p50/p99 (ms) and sample count per label, from latencies gathered with `keepLatencies`. */
export function latencyReport(latencies: ReadonlyMap<string, number[]>, name = 'per-operation latency (ms)'): BenchReport {
  return {
    name,
    collect: () => {
      const figures: Record<string, Record<string, number>> = {};
      for (const [label, samples] of latencies) {
        const sorted = [...samples].sort((a, b) => a - b);
        figures[label] = { p50: quantile(sorted, 0.5) / 1e6, p99: quantile(sorted, 0.99) / 1e6, samples: sorted.length };
      }
      return figures;
    },
  };
}

/**
 * Wraps a `run` workload so its per-operation latencies are also kept under
 * `label` in `into` (at most 200k per label), for a suite's latency report.
 */
export function keepLatencies(
  into: Map<string, number[]>,
  label: string,
  run: NonNullable<BenchCase['run']>,
): NonNullable<BenchCase['run']> {
  return async (options) => {
    const result = await run(options);
    const all = into.get(label) ?? [];
    for (const ns of result.latenciesNs ?? []) if (all.length < 200_000) all.push(ns);
    into.set(label, all);
    return result;
  };
}

export function caseLabel(c: { library: string; variant?: string | undefined }): string {
  return c.variant ? `${c.library} (${c.variant})` : c.library;
}

const BATCH_TARGET_NS = 1_000_000; // aim for ~1 ms per timed batch

interface RoundSample {
  ops: number;
  elapsedNs: number;
  batchMeans: number[];
  latencies: number[];
}

async function measureFn(fn: () => unknown, durationMs: number): Promise<RoundSample> {
  // Detect async once.
  const probe = fn();
  const isAsync = probe !== null && typeof probe === 'object' && typeof (probe as { then?: unknown }).then === 'function';
  if (isAsync) await (probe as PromiseLike<unknown>);
  let batch = 1;
  // Calibrate the batch size so a batch takes ~1 ms (timer overhead stays negligible).
  for (;;) {
    // The fastest of three timings, so one GC pause cannot shrink the batch to a single call.
    let ns = Number.POSITIVE_INFINITY;
    for (let attempt = 0; attempt < 3; attempt++) {
      const t0 = process.hrtime.bigint();
      if (isAsync) for (let i = 0; i < batch; i++) await fn();
      else for (let i = 0; i < batch; i++) fn();
      ns = Math.min(ns, Number(process.hrtime.bigint() - t0));
    }
    if (ns >= BATCH_TARGET_NS / 4 || batch >= 1 << 22) {
      batch = Math.max(1, Math.round((batch * BATCH_TARGET_NS) / Math.max(ns, 1)));
      break;
    }
    batch *= 4;
  }
  const batchMeans: number[] = [];
  let ops = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(durationMs) * 1_000_000n;
  for (;;) {
    const t0 = process.hrtime.bigint();
    if (isAsync) for (let i = 0; i < batch; i++) await fn();
    else for (let i = 0; i < batch; i++) fn();
    const t1 = process.hrtime.bigint();
    ops += batch;
    batchMeans.push(Number(t1 - t0) / batch);
    if (t1 - start >= limit) return { ops, elapsedNs: Number(t1 - start), batchMeans, latencies: [] };
  }
}

async function measureCase(c: BenchCase, durationMs: number): Promise<RoundSample> {
  if (c.run) {
    const t0 = process.hrtime.bigint();
    const { ops, latenciesNs } = await c.run({ durationMs });
    const elapsedNs = Number(process.hrtime.bigint() - t0);
    return { ops, elapsedNs, batchMeans: [elapsedNs / Math.max(ops, 1)], latencies: latenciesNs ?? [] };
  }
  if (c.fn) return measureFn(c.fn, durationMs);
  throw new TypeError(`bench case ${caseLabel(c)} has neither fn nor run`);
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

export function median(values: readonly number[]): number {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

export async function runTask(task: BenchTask): Promise<TaskResult> {
  const rounds = task.rounds ?? 5;
  const durationMs = task.durationMs ?? 300;
  const perCase = task.cases.map(() => ({ nsPerOp: [] as number[], batchMeans: [] as number[], latencies: [] as number[], ops: 0 }));
  for (const c of task.cases) await c.setup?.();
  try {
    // Warm-up round (not recorded) so JIT tiers settle for every case.
    for (const c of task.cases) await measureCase(c, Math.min(durationMs, 200));
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round so no case always runs first or last.
      for (let k = 0; k < task.cases.length; k++) {
        const i = (k + round) % task.cases.length;
        const sample = await measureCase(task.cases[i]!, durationMs);
        const acc = perCase[i]!;
        acc.nsPerOp.push(sample.elapsedNs / Math.max(sample.ops, 1));
        for (const mean of sample.batchMeans) acc.batchMeans.push(mean); // no spread: may be long
        // Keep memory bounded: at most 200k latency samples per case.
        for (const l of sample.latencies) if (acc.latencies.length < 200_000) acc.latencies.push(l);
        acc.ops += sample.ops;
      }
    }
  } finally {
    for (const c of task.cases) await c.teardown?.();
  }
  const results: CaseResult[] = task.cases.map((c, i) => {
    const acc = perCase[i]!;
    const med = median(acc.nsPerOp);
    const useLatency = acc.latencies.length > 0;
    const p99 = quantile(
      (useLatency ? acc.latencies : acc.batchMeans).sort((a, b) => a - b),
      0.99,
    );
    return {
      library: c.library,
      ...(c.variant ? { variant: c.variant } : {}),
      medianNsPerOp: med,
      p99NsPerOp: p99,
      p99Of: useLatency ? 'operation' : 'batch-mean',
      opsPerSec: 1e9 / med,
      rounds: acc.nsPerOp,
      totalOps: acc.ops,
    };
  });
  const ours = results.find((r) => r.library === 'bulwark');
  if (ours) for (const r of results) r.ratioToBulwark = r.medianNsPerOp / ours.medianNsPerOp;
  return { name: task.name, cases: results };
}

export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '—';
  if (ns < 1_000) return `${ns.toFixed(ns < 10 ? 2 : 1)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(2)} µs`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(2)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

export function formatRate(opsPerSec: number): string {
  if (opsPerSec >= 1e6) return `${(opsPerSec / 1e6).toFixed(2)}M/s`;
  if (opsPerSec >= 1e3) return `${(opsPerSec / 1e3).toFixed(1)}k/s`;
  return `${opsPerSec.toFixed(0)}/s`;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export function formatTask(task: TaskResult): string {
  const lines = [`  ${task.name}`];
  const header = `    ${pad('library', 34)}${pad('median/op', 12, true)}${pad('p99/op', 12, true)}${pad('throughput', 12, true)}   vs bulwark`;
  lines.push(header);
  for (const c of task.cases) {
    const ratio =
      c.ratioToBulwark === undefined || c.library === 'bulwark'
        ? ''
        : c.ratioToBulwark >= 1
          ? `bulwark ${c.ratioToBulwark.toFixed(2)}× faster`
          : `bulwark ${(1 / c.ratioToBulwark).toFixed(2)}× slower`;
    lines.push(
      `    ${pad(caseLabel(c), 34)}${pad(formatNs(c.medianNsPerOp), 12, true)}${pad(formatNs(c.p99NsPerOp), 12, true)}${pad(formatRate(c.opsPerSec), 12, true)}   ${ratio}`,
    );
  }
  return lines.join('\n');
}

export function formatReport(name: string, figures: Record<string, Record<string, number | string>>): string {
  const columns = [...new Set(Object.values(figures).flatMap((f) => Object.keys(f)))];
  // Each column is wide enough for its name, so long names never run together.
  const widths = columns.map((c) => Math.max(16, c.length + 2));
  const lines = [`  ${name}`, `    ${pad('library', 34)}${columns.map((c, i) => pad(c, widths[i]!, true)).join('')}`];
  for (const [library, f] of Object.entries(figures)) {
    const cells = columns.map((c, i) => {
      const v = f[c];
      const text = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : (v ?? '—');
      return pad(text, widths[i]!, true);
    });
    lines.push(`    ${pad(library, 34)}${cells.join('')}`);
  }
  return lines.join('\n');
}

export function nowMs(): number {
  return performance.now();
}
