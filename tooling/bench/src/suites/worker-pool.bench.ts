// @bulwark/worker-pool vs piscina (threads) and p-limit / p-queue (in-process).
//
// Thread pool: piscina's own method — async schedulers each looping
// `await pool.run({ a, b })` for a fixed time, counted together. In piscina's
// benchmark the number of schedulers is "add one until pool.queueSize > 0", so
// each pool decides it from its own queue; the second task gives both pools
// the same 64 schedulers, the third a single one (pure round-trip latency).
import { Piscina } from 'piscina';
import pLimit from 'p-limit';
import PQueue from 'p-queue';
import { createLimiter, createPool, type Pool } from '@bulwark/worker-pool';
import { defineSuite, median, type BenchCase } from '../harness.js';

const addWorker = new URL('./fixtures/worker-pool/add.mjs', import.meta.url);

interface RunsTasks {
  run(task: { a: number; b: number }): Promise<unknown>;
  readonly queueSize: number;
}

async function schedulers(pool: RunsTasks, count: number | 'until-queued', durationMs: number): Promise<{ ops: number; latenciesNs: number[] }> {
  const end = process.hrtime.bigint() + BigInt(durationMs) * 1_000_000n;
  const latenciesNs: number[] = [];
  let ops = 0;
  const loop = async (): Promise<void> => {
    while (process.hrtime.bigint() < end) {
      const t0 = process.hrtime.bigint();
      await pool.run({ a: 4, b: 6 });
      if (latenciesNs.length < 50_000) latenciesNs.push(Number(process.hrtime.bigint() - t0));
      ops++;
    }
  };
  const running: Promise<void>[] = [];
  if (count === 'until-queued') {
    while (pool.queueSize === 0 && running.length < 1024) running.push(loop());
  } else {
    for (let i = 0; i < count; i++) running.push(loop());
  }
  await Promise.all(running);
  return { ops, latenciesNs };
}

function threadCases(count: number | 'until-queued', withVariants = false): BenchCase[] {
  let ours: Pool | undefined;
  let unpipelined: Pool | undefined;
  let theirs: Piscina | undefined;
  let theirsNoAtomics: Piscina | undefined;
  const peerExtra: BenchCase[] = withVariants
    ? [
        {
          // piscina's default `atomics: 'sync'` suffers most when the CPUs are shared with other load.
          library: 'piscina',
          variant: "atomics: 'disabled'",
          setup: () => {
            theirsNoAtomics = new Piscina({ filename: addWorker.href, atomics: 'disabled' });
          },
          teardown: () => theirsNoAtomics?.close(),
          run: ({ durationMs }) => schedulers(theirsNoAtomics!, count, durationMs),
        },
      ]
    : [];
  const extra: BenchCase[] = withVariants
    ? [
        {
          // What batching/pipelining buys: the same pool handing one task per thread at a time.
          library: 'bulwark',
          variant: 'pipelineDepth 0',
          setup: () => {
            unpipelined = createPool({ url: addWorker, pipelineDepth: 0 });
          },
          teardown: () => unpipelined?.close(),
          run: ({ durationMs }) => schedulers(unpipelined!, count, durationMs),
        },
      ]
    : [];
  return [
    {
      library: 'bulwark',
      variant: 'defaults',
      setup: () => {
        ours = createPool({ url: addWorker });
      },
      teardown: () => ours?.close(),
      run: ({ durationMs }) => schedulers(ours!, count, durationMs),
    },
    ...extra, // after the defaults: the harness takes the first bulwark case as the reference
    {
      library: 'piscina',
      variant: 'defaults',
      setup: () => {
        theirs = new Piscina({ filename: addWorker.href });
      },
      teardown: () => theirs?.close(),
      run: ({ durationMs }) => schedulers(theirs!, count, durationMs),
    },
    ...peerExtra,
  ];
}

const noop = (): Promise<void> => Promise.resolve();

function limiterBurst(submit: (fn: () => Promise<void>) => Promise<unknown>, burst: number): (options: { durationMs: number }) => Promise<{ ops: number }> {
  return async ({ durationMs }) => {
    const end = performance.now() + durationMs;
    let ops = 0;
    const batch = new Array<Promise<unknown>>(burst);
    while (performance.now() < end) {
      for (let i = 0; i < burst; i++) batch[i] = submit(noop);
      await Promise.all(batch);
      ops += burst;
    }
    return { ops };
  };
}

const QUEUED = 100_000;

type Priorities = 'fifo' | 'random' | 'distinct';

/** QUEUED priorities from a seeded 31-bit LCG: integers 0..999 ('random') or distinct fractions in [0, 1) ('distinct'). */
function priorityList(kind: Priorities, seed: number): Float64Array | undefined {
  if (kind === 'fifo') return undefined;
  const out = new Float64Array(QUEUED);
  let state = seed;
  for (let i = 0; i < QUEUED; i++) {
    // Math.imul keeps the product exact; a plain `*` overflows 2^53 and collapses the sequence to a short cycle.
    state = (Math.imul(state, 1_103_515_245) + 12_345) & 0x7fffffff;
    out[i] = kind === 'random' ? state % 1000 : state / 0x80000000; // full period: all distinct
  }
  return out;
}

/**
 * Blocks the limiter, queues QUEUED no-op tasks, releases it and waits until all ran; returns ms (total, enqueue part).
 * Priorities are generated before the clock starts, so both modes time only the queue's own work.
 */
async function queuedCost(kind: 'bulwark' | 'p-queue', priorities: Priorities, seed: number): Promise<{ totalMs: number; enqueueMs: number }> {
  const list = priorityList(priorities, seed);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const task = (): undefined => undefined;
  const t0 = performance.now();
  if (kind === 'bulwark') {
    const limiter = createLimiter({ concurrency: 1 });
    const blocker = limiter.run(() => gate);
    const all: Promise<unknown>[] = [blocker];
    for (let i = 0; i < QUEUED; i++) all.push(list ? limiter.run(task, { priority: list[i]! }) : limiter.run(task));
    const enqueueMs = performance.now() - t0;
    release();
    await Promise.all(all);
    return { totalMs: performance.now() - t0, enqueueMs };
  } else {
    const queue = new PQueue({ concurrency: 1 });
    const blocker = queue.add(() => gate);
    const all: Promise<unknown>[] = [blocker];
    for (let i = 0; i < QUEUED; i++) all.push(list ? queue.add(task, { priority: list[i]! }) : queue.add(task));
    const enqueueMs = performance.now() - t0;
    release();
    await Promise.all(all);
    return { totalMs: performance.now() - t0, enqueueMs };
  }
}

export const suite = defineSuite({
  name: 'worker-pool',
  tasks: [
    { name: "tiny task (a + b) throughput, piscina's method: schedulers added until queueSize > 0", durationMs: 500, rounds: 7, cases: threadCases('until-queued') },
    { name: 'tiny task (a + b) throughput, 64 schedulers for both', durationMs: 500, rounds: 7, cases: threadCases(64, true) },
    { name: 'tiny task (a + b) round trip, 1 scheduler', durationMs: 500, rounds: 3, cases: threadCases(1) },
    {
      name: 'limiter overhead: one no-op task at a time (awaited), concurrency 8',
      rounds: 9,
      cases: (() => {
        const ours = createLimiter({ concurrency: 8 });
        const limit = pLimit(8);
        const queue = new PQueue({ concurrency: 8 });
        return [
          { library: 'bulwark', fn: () => ours.run(noop) },
          { library: 'p-limit', fn: () => limit(noop) },
          { library: 'p-queue', fn: () => queue.add(noop) },
        ];
      })(),
    },
    {
      name: 'limiter overhead: bursts of 1000 no-op tasks, concurrency 8',
      rounds: 9,
      cases: (() => {
        const ours = createLimiter({ concurrency: 8 });
        const limit = pLimit(8);
        const queue = new PQueue({ concurrency: 8 });
        return [
          { library: 'bulwark', run: limiterBurst((fn) => ours.run(fn), 1000) },
          { library: 'p-limit', run: limiterBurst((fn) => limit(fn), 1000) },
          { library: 'p-queue', run: limiterBurst((fn) => queue.add(fn), 1000) },
        ];
      })(),
    },
  ],
  reports: [
    {
      // Median of 3 runs each; p-queue's random-priority run is a single one because its
      // sorted-array insertion takes seconds at this size and would dominate the suite.
      name: `${QUEUED / 1000}k queued no-op tasks (concurrency 1): ms to run all, FIFO vs random priorities`,
      collect: async () => {
        const figures: Record<string, Record<string, number>> = {};
        for (const kind of ['bulwark', 'p-queue'] as const) {
          const fifo: { totalMs: number; enqueueMs: number }[] = [];
          const random: { totalMs: number; enqueueMs: number }[] = [];
          const distinct: { totalMs: number; enqueueMs: number }[] = [];
          await queuedCost(kind, 'fifo', 1); // warm-up
          if (kind === 'bulwark') await queuedCost(kind, 'random', 1);
          for (let round = 0; round < 3; round++) {
            fifo.push(await queuedCost(kind, 'fifo', round + 1));
            if (kind === 'bulwark' || round === 0) random.push(await queuedCost(kind, 'random', round + 1));
            // All-distinct priorities exercise the entry heap the queue falls back to beyond 4096 distinct values.
            if (kind === 'bulwark') distinct.push(await queuedCost(kind, 'distinct', round + 1));
          }
          const fifoMs = median(fifo.map((r) => r.totalMs));
          const randomMs = median(random.map((r) => r.totalMs));
          const fifoEnqueueMs = median(fifo.map((r) => r.enqueueMs));
          const randomEnqueueMs = median(random.map((r) => r.enqueueMs));
          figures[kind] = {
            fifoMs,
            randomMs,
            ratio: randomMs / fifoMs,
            fifoEnqueueMs,
            randomEnqueueMs,
            enqueueRatio: randomEnqueueMs / fifoEnqueueMs,
            ...(distinct.length > 0 ? { distinctMs: median(distinct.map((r) => r.totalMs)), distinctRatio: median(distinct.map((r) => r.totalMs)) / fifoMs } : {}),
          };
        }
        return figures;
      },
    },
  ],
});
