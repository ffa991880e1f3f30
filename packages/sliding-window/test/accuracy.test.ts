// 8 processes × 64 concurrent callers on one key against a real Redis. The
// exact sliding log admits exactly `limit` in a window longer than the run (0
// over), also with ±5 s client clock skew, and never more than `limit` in any
// sliding window of a shorter one; the approximate counter's error is measured
// on the same Redis decision times and reported.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { sharedServers } from '@bulwark/servers/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAll, startChildren, stopChildren } from '../../token-bucket/test/helpers.js';

const limiterModule = fileURLToPath(new URL('./fixtures/sliding-window-limiter.ts', import.meta.url));

const PROCESSES = 8;
const CONCURRENCY = 64;

describe('RedisSlidingWindow under 8 processes × 64 callers', () => {
  let children: ChildProcess[] = [];

  beforeAll(async () => {
    children = await startChildren(PROCESSES, sharedServers().redisUrls[0]!, limiterModule);
  });
  afterAll(() => {
    stopChildren(children);
  });

  async function exactRun(skews: readonly number[]): Promise<{ admitted: number; over: number; errors: number; contended: boolean }> {
    const limit = 400;
    const key = `exact:${randomUUID()}`;
    const results = await runAll(children, (i) => ({
      key,
      limiter: { algorithm: 'log', limit, windowMs: 60_000 }, // a window longer than the run: every admission stays in one
      durationMs: 1_500,
      concurrency: CONCURRENCY,
      skewMs: skews[i] ?? 0,
    }));
    const admitted = results.reduce((s, r) => s + r.admitted, 0);
    const calls = results.reduce((s, r) => s + r.calls, 0);
    const errors = results.reduce((s, r) => s + r.errors, 0);
    console.log(`sliding log: ${calls} calls, ${admitted} admitted, limit ${limit}, over the limit: ${Math.max(0, admitted - limit)}`);
    return { admitted, over: Math.max(0, admitted - limit), errors, contended: calls > admitted };
  }

  it('the exact sliding log admits 0 requests over the limit', async () => {
    const run = await exactRun([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(run).toEqual({ admitted: 400, over: 0, errors: 0, contended: true });
  });

  it('clients with ±5 s skewed clocks over-admit nothing (decisions use Redis TIME)', async () => {
    const run = await exactRun([-5000, 5000, 0, -5000, 5000, -5000, 5000, 0]);
    expect(run).toEqual({ admitted: 400, over: 0, errors: 0, contended: true });
  });

  it('reports the sliding-window counter error against the exact log under contention', async () => {
    const limit = 100;
    const windowMs = 500;
    const figures: Record<string, { admitted: number; maxInWindow: number; errorPct: string }> = {};
    for (const algorithm of ['log', 'counter'] as const) {
      const key = `${algorithm}-error:${randomUUID()}`;
      const results = await runAll(children, () => ({
        key,
        limiter: { algorithm, limit, windowMs },
        durationMs: 2_000,
        concurrency: CONCURRENCY,
        skewMs: 0,
      }));
      expect(results.reduce((s, r) => s + r.errors, 0)).toBe(0);
      const times = results.flatMap((r) => r.times).sort((a, b) => a - b);
      expect(times).toHaveLength(results.reduce((s, r) => s + r.admitted, 0)); // every admission reported its Redis time
      let maxInWindow = 0;
      let from = 0;
      for (let to = 0; to < times.length; to++) {
        while (times[from]! <= times[to]! - windowMs) from++;
        maxInWindow = Math.max(maxInWindow, to - from + 1);
      }
      figures[algorithm] = { admitted: times.length, maxInWindow, errorPct: ((maxInWindow / limit - 1) * 100).toFixed(1) };
    }
    // Measured on Redis's decision times (returned by the scripts).
    console.log(`limit ${limit} per ${windowMs} ms, 2 s, 8 × 64 callers; max admitted in any sliding window:`);
    console.table(figures);
    // Each fixed window admits ≤ limit, so any sliding window sees < 2 × limit; Cloudflare's estimate keeps it far lower.
    expect(figures.log!.maxInWindow).toBeLessThanOrEqual(limit); // exact: 0 over in every sliding window
    expect(figures.counter!.maxInWindow).toBeLessThan(2 * limit);
    expect(figures.counter!.admitted).toBeGreaterThanOrEqual(limit);
  });
});
