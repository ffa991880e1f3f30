import { describe, expect, it } from 'vitest';
import { caseLabel, concurrentCallers, formatNs, formatReport, formatTask, keepLatencies, latencyReport, median, quantile, runTask } from './harness.js';

describe('statistics', () => {
  it('takes nearest-rank quantiles of sorted samples', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.5)).toBe(50);
    expect(quantile(sorted, 0.99)).toBe(99);
    expect(quantile(sorted, 1)).toBe(100);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('computes the median without mutating its input', () => {
    const values = [5, 1, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 3]);
  });

  it('formats durations with sensible units', () => {
    expect(formatNs(12.345)).toBe('12.3 ns');
    expect(formatNs(2_500)).toBe('2.50 µs');
    expect(formatNs(3_000_000)).toBe('3.00 ms');
  });
});

describe('runTask', () => {
  it('measures every case, interleaved, and reports the ratio to bulwark', async () => {
    let fast = 0;
    let slow = 0;
    const result = await runTask({
      name: 'toy',
      rounds: 2,
      durationMs: 20,
      cases: [
        { library: 'bulwark', fn: () => fast++ },
        {
          library: 'peer',
          variant: 'slow',
          fn: () => {
            let x = 0;
            for (let i = 0; i < 2_000; i++) x += i;
            slow += x > 0 ? 1 : 0;
          },
        },
      ],
    });
    expect(result.cases).toHaveLength(2);
    expect(fast).toBeGreaterThan(0);
    expect(slow).toBeGreaterThan(0);
    const [ours, peer] = result.cases;
    expect(ours!.ratioToBulwark).toBe(1);
    expect(peer!.rounds).toHaveLength(2);
    expect(peer!.p99Of).toBe('batch-mean');
    expect(formatTask(result)).toContain('peer (slow)');
  });

  it('uses per-operation latencies for custom workloads and runs setup/teardown once', async () => {
    const calls: string[] = [];
    const result = await runTask({
      name: 'custom',
      rounds: 1,
      durationMs: 5,
      cases: [
        {
          library: 'bulwark',
          setup: () => calls.push('setup'),
          teardown: () => calls.push('teardown'),
          run: () => Promise.resolve({ ops: 10, latenciesNs: [100, 200, 300] }),
        },
      ],
    });
    expect(calls).toEqual(['setup', 'teardown']);
    expect(result.cases[0]!.p99Of).toBe('operation');
    expect(result.cases[0]!.p99NsPerOp).toBe(300);
    expect(result.cases[0]!.totalOps).toBe(10);
  });

  it('labels variants', () => {
    expect(caseLabel({ library: 'opossum' })).toBe('opossum');
    expect(caseLabel({ library: 'bulwark', variant: 'stackless' })).toBe('bulwark (stackless)');
  });
});

describe('concurrentCallers', () => {
  it('runs every caller until the duration is over and records one latency per operation', async () => {
    const seen = new Set<number>();
    const run = concurrentCallers(4, async (caller) => {
      seen.add(caller);
      await new Promise((resolve) => setImmediate(resolve));
    });
    const { ops, latenciesNs } = await run({ durationMs: 20 });
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
    expect(ops).toBeGreaterThanOrEqual(4);
    expect(latenciesNs).toHaveLength(ops);
    expect(latenciesNs!.every((ns) => ns > 0)).toBe(true);
  });
});

describe('formatReport', () => {
  it('keeps long column names apart', () => {
    const text = formatReport('r', { bulwark: { entriesPerCpuSecond: 326634, cpuMs: 990 } });
    expect(text).toContain(' entriesPerCpuSecond');
    expect(text).toContain(' cpuMs');
    expect(text).not.toContain('cpuMsentries');
  });
});

describe('keepLatencies', () => {
  it('passes the result through and keeps the latencies under the label, across rounds', async () => {
    const kept = new Map<string, number[]>();
    const run = keepLatencies(kept, 'x', () => Promise.resolve({ ops: 2, latenciesNs: [5, 7] }));
    expect(await run({ durationMs: 1 })).toEqual({ ops: 2, latenciesNs: [5, 7] });
    await run({ durationMs: 1 });
    expect(kept.get('x')).toEqual([5, 7, 5, 7]);
  });
});

describe('latencyReport', () => {
  it('reports p50/p99 in ms and the sample count per label', async () => {
    const samples = Array.from({ length: 100 }, (_, i) => (i + 1) * 1e6);
    const report = latencyReport(new Map([['a', samples]]));
    expect(await report.collect()).toEqual({ a: { p50: 50, p99: 99, samples: 100 } });
  });
});
