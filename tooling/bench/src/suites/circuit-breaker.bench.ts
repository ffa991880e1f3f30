// @bulwark/circuit-breaker vs opossum 9 (defaults) and cockatiel 3 (its lightest breaker,
// ConsecutiveBreaker), next to a bare `await fn()` so the cost each breaker adds is visible.
//
// - closed state: one awaited call of an async no-op through each breaker, and a reference
//   case (fn's promise watched by one do-nothing then()) that shows the floor any breaker
//   watching fn's promise pays; then the same with eight different callbacks in turn, as a
//   service passes many, so no case can inline fn;
// - open state: one rejected call (the caller catches it), ours with a fresh error and
//   with `stacklessRejections`, next to the cheapest possible caught rejection;
// - reports: the added cost (case − baseline) and its ratio, re-measured with the same
//   harness; bytes per breaker (10,000 of each, with global.gc — `pnpm bench` runs node
//   with --expose-gc); heap growth over millions of closed-state calls; bytes allocated
//   per call (young-generation growth over short batches that trigger no GC).
import { getHeapStatistics } from 'node:v8';
import { circuitBreaker, type CircuitBreaker } from '@bulwark/circuit-breaker';
import { ConsecutiveBreaker, circuitBreaker as cockatielBreaker, handleAll, type CircuitBreakerPolicy } from 'cockatiel';
import Opossum from 'opossum';
import { caseLabel, defineSuite, median, runTask, type BenchCase, type BenchTask } from '../harness.js';

const noop = async (): Promise<void> => {};
const fail = (): Promise<never> => Promise.reject(new Error('down'));
const swallow = (): void => {};
const preRejected = Promise.reject(new Error('baseline rejection'));
preRejected.catch(swallow);

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with --expose-gc (pnpm bench does)');
  collect();
  collect();
}

function heapBytes(): number {
  const usage = process.memoryUsage();
  // Typed arrays above 64 bytes keep their contents off the JS heap: count them too.
  return usage.heapUsed + usage.arrayBuffers;
}

// --- the breakers under test -------------------------------------------------------------

/** Our breaker with default options (count window of 100 calls). */
const ours = (): CircuitBreaker => circuitBreaker();
/** opossum with its defaults (10 s timeout timer per call, rolling stats). */
const opossum = (): Opossum => new Opossum(noop);
/** cockatiel's lightest: ConsecutiveBreaker (no sampling window). */
const cockatiel = (): CircuitBreakerPolicy => cockatielBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });

function closedCases(): BenchCase[] {
  let bulwark: CircuitBreaker | undefined;
  let bulwarkTimed: CircuitBreaker | undefined;
  let theirs: Opossum | undefined;
  let cockatielPolicy: CircuitBreakerPolicy | undefined;
  return [
    { library: 'baseline', variant: 'bare await fn()', fn: () => noop() },
    // The least any breaker that watches fn's own promise can add: one then() on it, with
    // handlers that do nothing. Everything a breaker adds beyond this is its own bookkeeping.
    {
      library: 'reference',
      variant: 'one then() watcher',
      fn: () => {
        const promise = noop();
        void promise.then(swallow, swallow);
        return promise;
      },
    },
    {
      library: 'bulwark',
      variant: 'defaults',
      setup: () => (bulwark = ours()),
      fn: () => bulwark!.execute(noop),
    },
    {
      library: 'bulwark',
      variant: 'time window + slow-call rate',
      setup: () => (bulwarkTimed = circuitBreaker({ window: { type: 'time', durationMs: 10_000, buckets: 10 }, slowCallDurationMs: 1000 })),
      fn: () => bulwarkTimed!.execute(noop),
    },
    {
      library: 'opossum',
      variant: 'defaults',
      setup: () => (theirs = opossum()),
      teardown: () => theirs?.shutdown(),
      fn: () => theirs!.fire(),
    },
    {
      library: 'cockatiel',
      variant: 'ConsecutiveBreaker',
      setup: () => (cockatielPolicy = cockatiel()),
      fn: () => cockatielPolicy!.execute(noop),
    },
  ];
}

function openCases(): BenchCase[] {
  let fresh: CircuitBreaker | undefined;
  let stackless: CircuitBreaker | undefined;
  let theirs: Opossum | undefined;
  let cockatielPolicy: CircuitBreakerPolicy | undefined;
  const openOurs = async (stacklessRejections: boolean): Promise<CircuitBreaker> => {
    const breaker = circuitBreaker({ window: { type: 'count', size: 1 }, minimumCalls: 1, openDurationMs: 1e9, stacklessRejections });
    await breaker.execute(fail).catch(swallow);
    if (breaker.state !== 'open') throw new Error('bench setup: bulwark breaker did not open');
    return breaker;
  };
  return [
    // The least a caller pays to catch a rejection: a rejected promise that already has a handler.
    { library: 'baseline', variant: 'pre-rejected promise + catch', fn: () => preRejected.catch(swallow) },
    {
      library: 'bulwark',
      variant: 'stackless',
      setup: async () => (stackless = await openOurs(true)),
      fn: () => stackless!.execute(noop).catch(swallow),
    },
    {
      // The breaker's own part only: the decision and the (shared, pre-handled) rejected promise.
      library: 'bulwark',
      variant: 'stackless, sync part (not awaited)',
      fn: () => {
        void stackless!.execute(noop);
      },
    },
    {
      library: 'bulwark',
      variant: 'fresh error (default)',
      setup: async () => (fresh = await openOurs(false)),
      fn: () => fresh!.execute(noop).catch(swallow),
    },
    {
      library: 'opossum',
      variant: 'defaults, open',
      setup: () => {
        theirs = opossum();
        theirs.open();
      },
      teardown: () => theirs?.shutdown(),
      fn: () => theirs!.fire().catch(swallow),
    },
    {
      library: 'cockatiel',
      variant: 'ConsecutiveBreaker, open',
      setup: async () => {
        cockatielPolicy = cockatielBreaker(handleAll, { halfOpenAfter: 1e9, breaker: new ConsecutiveBreaker(1) });
        await cockatielPolicy.execute(fail).catch(swallow);
      },
      fn: () => cockatielPolicy!.execute(noop).catch(swallow),
    },
  ];
}

/**
 * Eight distinct async no-ops (eight function literals, so eight pieces of code): a real
 * service passes many different callbacks through one breaker, so the breaker's call of fn
 * cannot be inlined. Each case calls them in turn, the baseline and the reference included.
 */
const callbacks: (() => Promise<void>)[] = [
  async () => {},
  async () => {},
  async () => {},
  async () => {},
  async () => {},
  async () => {},
  async () => {},
  async () => {},
];

function variedCases(): BenchCase[] {
  let bulwark: CircuitBreaker | undefined;
  let theirs: Opossum | undefined;
  let cockatielPolicy: CircuitBreakerPolicy | undefined;
  let next = 0;
  const callback = (): (() => Promise<void>) => callbacks[next++ & 7]!;
  return [
    { library: 'baseline', variant: 'bare await fn()', fn: () => callback()() },
    {
      library: 'reference',
      variant: 'one then() watcher',
      fn: () => {
        const promise = callback()();
        void promise.then(swallow, swallow);
        return promise;
      },
    },
    { library: 'bulwark', variant: 'defaults', setup: () => (bulwark = ours()), fn: () => bulwark!.execute(callback()) },
    {
      library: 'opossum',
      variant: 'defaults, fire(fn)',
      setup: () => (theirs = new Opossum((fn: () => Promise<void>) => fn())),
      teardown: () => theirs?.shutdown(),
      fn: () => theirs!.fire(callback()),
    },
    { library: 'cockatiel', variant: 'ConsecutiveBreaker', setup: () => (cockatielPolicy = cockatiel()), fn: () => cockatielPolicy!.execute(callback()) },
  ];
}

const closedTask: BenchTask = { name: 'closed state: await execute(async no-op)', cases: closedCases() };
const variedTask: BenchTask = { name: 'closed state, 8 different callbacks in turn: await execute(fn)', cases: variedCases() };
const openTask: BenchTask = { name: 'open state: rejected call, caught', cases: openCases() };

/** Re-measure a task with fresh cases and express every case as cost added over its baseline case. */
async function addedCost(task: BenchTask, makeCases: () => BenchCase[]): Promise<Record<string, Record<string, number | string>>> {
  const cases = makeCases().filter((c) => !c.variant?.includes('not awaited'));
  const result = await runTask({ ...task, cases });
  const baseline = result.cases.find((c) => c.library === 'baseline')!.medianNsPerOp;
  const ours = result.cases.find((c) => c.library === 'bulwark')!;
  const oursAdded = ours.medianNsPerOp - baseline;
  const figures: Record<string, Record<string, number | string>> = {};
  for (const c of result.cases) {
    const added = c.medianNsPerOp - baseline;
    figures[caseLabel(c)] = {
      'ns/op': round(c.medianNsPerOp),
      'added ns/op': c.library === 'baseline' ? 0 : round(added),
      'added/bulwark': c.library === 'baseline' ? '—' : round(added / oursAdded),
      'total/bulwark': round(c.medianNsPerOp / ours.medianNsPerOp),
    };
  }
  return figures;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

// --- memory ------------------------------------------------------------------------------

const BREAKERS = 10_000;

function bytesPerBreaker(create: () => unknown, dispose?: (instance: unknown) => void): number {
  const keep: unknown[] = new Array<unknown>(BREAKERS);
  gc();
  const before = heapBytes();
  for (let i = 0; i < BREAKERS; i++) keep[i] = create();
  gc();
  const after = heapBytes();
  if (dispose) for (const instance of keep) dispose(instance);
  return (after - before) / BREAKERS;
}

async function heapGrowth(call: () => Promise<unknown>, calls: number): Promise<number> {
  for (let i = 0; i < 10_000; i++) await call();
  gc();
  const before = heapBytes();
  for (let i = 0; i < calls; i++) await call();
  gc();
  return heapBytes() - before;
}

/**
 * Bytes allocated per awaited call: JS-heap growth over a batch small enough that no
 * scavenge runs during it (median of many batches, so a batch that did collect is an outlier).
 */
async function bytesAllocatedPerCall(call: () => Promise<unknown>): Promise<number> {
  const batch = 1000;
  for (let i = 0; i < 20_000; i++) await call();
  const samples: number[] = [];
  for (let round = 0; round < 31; round++) {
    gc();
    const before = getHeapStatistics().used_heap_size;
    for (let i = 0; i < batch; i++) await call();
    samples.push((getHeapStatistics().used_heap_size - before) / batch);
  }
  return median(samples);
}

async function memoryFigures(): Promise<Record<string, Record<string, number | string>>> {
  const figures: Record<string, Record<string, number | string>> = {};
  const baselineAlloc = await bytesAllocatedPerCall(() => noop());
  figures['baseline (bare await fn())'] = { 'bytes/breaker': '—', 'alloc B/call': round(baselineAlloc), 'added B/call': 0, calls: '—', 'heap growth B': '—' };

  const bulwark = ours();
  const bulwarkAlloc = await bytesAllocatedPerCall(() => bulwark.execute(noop));
  const bulwarkCalls = 10_000_000;
  figures['bulwark (defaults)'] = {
    'bytes/breaker': round(bytesPerBreaker(ours)),
    'alloc B/call': round(bulwarkAlloc),
    'added B/call': round(bulwarkAlloc - baselineAlloc),
    calls: bulwarkCalls,
    'heap growth B': await heapGrowth(() => bulwark.execute(noop), bulwarkCalls),
  };
  const timed = circuitBreaker({ window: { type: 'time', durationMs: 10_000, buckets: 10 }, slowCallDurationMs: 1000 });
  const timedAlloc = await bytesAllocatedPerCall(() => timed.execute(noop));
  figures['bulwark (time window + slow)'] = {
    'bytes/breaker': round(bytesPerBreaker(() => circuitBreaker({ window: { type: 'time', durationMs: 10_000, buckets: 10 }, slowCallDurationMs: 1000 }))),
    'alloc B/call': round(timedAlloc),
    'added B/call': round(timedAlloc - baselineAlloc),
    calls: '—',
    'heap growth B': '—',
  };

  // opossum is ~1 µs per call: 1M calls keep the suite short.
  const theirs = opossum();
  const opossumAlloc = await bytesAllocatedPerCall(() => theirs.fire());
  const opossumCalls = 1_000_000;
  figures['opossum (defaults)'] = {
    'bytes/breaker': round(bytesPerBreaker(opossum, (b) => (b as Opossum).shutdown())),
    'alloc B/call': round(opossumAlloc),
    'added B/call': round(opossumAlloc - baselineAlloc),
    calls: opossumCalls,
    'heap growth B': await heapGrowth(() => theirs.fire(), opossumCalls),
  };
  theirs.shutdown();

  const policy = cockatiel();
  const cockatielAlloc = await bytesAllocatedPerCall(() => policy.execute(noop));
  const cockatielCalls = 5_000_000;
  figures['cockatiel (ConsecutiveBreaker)'] = {
    'bytes/breaker': round(bytesPerBreaker(cockatiel)),
    'alloc B/call': round(cockatielAlloc),
    'added B/call': round(cockatielAlloc - baselineAlloc),
    calls: cockatielCalls,
    'heap growth B': await heapGrowth(() => policy.execute(noop), cockatielCalls),
  };
  return figures;
}

export const suite = defineSuite({
  name: 'circuit-breaker',
  tasks: [closedTask, variedTask, openTask],
  reports: [
    { name: 'closed state: cost added over a bare await (re-measured)', collect: () => addedCost(closedTask, closedCases) },
    { name: 'closed state, 8 callbacks: cost added over a bare await (re-measured)', collect: () => addedCost(variedTask, variedCases) },
    { name: 'open state: cost added over a pre-rejected promise + catch (re-measured)', collect: () => addedCost(openTask, openCases) },
    { name: 'memory: 10,000 breakers each; heap after N closed calls; allocation per call', collect: memoryFigures },
  ],
});
