// 8 processes × 64 concurrent callers on one key against a real Redis: the
// token bucket admits nothing beyond capacity + rate · elapsed (elapsed measured
// on Redis's clock around the run), with and without ±5 s client clock skew.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { sharedServers } from '@bulwark/servers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisTimeMs, runAll, startChildren, stopChildren } from './helpers.js';

const PROCESSES = 8;
const CONCURRENCY = 64;
const DURATION_MS = 2_000;

describe('RedisTokenBucket under 8 processes × 64 callers', () => {
  let children: ChildProcess[] = [];
  let client: Redis;
  let url: string;

  beforeAll(async () => {
    url = sharedServers().redisUrls[0]!;
    client = new Redis(url, { maxRetriesPerRequest: 1 });
    children = await startChildren(PROCESSES, url);
  });
  afterAll(() => {
    stopChildren(children);
    client.disconnect();
  });

  async function scenario(skews: (i: number) => number, mixTake: boolean): Promise<{ over: number; errors: number }> {
    const key = `accuracy:${randomUUID()}`;
    const capacity = 50;
    const refillRate = 100; // per second
    const start = await redisTimeMs(client);
    const results = await runAll(children, (i) => ({
      key,
      limiter: { capacity, refillRate, intervalMs: 1000 },
      durationMs: DURATION_MS,
      concurrency: CONCURRENCY,
      skewMs: skews(i),
      mixTake,
    }));
    const end = await redisTimeMs(client);
    const admitted = results.reduce((sum, r) => sum + r.admitted, 0);
    const calls = results.reduce((sum, r) => sum + r.calls, 0);
    const errors = results.reduce((sum, r) => sum + r.errors, 0);
    const bound = Math.floor(capacity + (refillRate * (end - start)) / 1000 + 1e-9);
    const over = Math.max(0, admitted - bound);
    console.log(`token bucket: ${calls} calls, ${admitted} admitted, bound ${bound}, over the limit: ${over}`);
    expect(calls).toBeGreaterThan(admitted); // the key really was contended
    expect(admitted).toBeGreaterThanOrEqual(capacity);
    return { over, errors };
  }

  it('admits 0 requests over the limit', async () => {
    expect(await scenario(() => 0, false)).toEqual({ over: 0, errors: 0 });
  });

  it('clients with ±5 s skewed clocks over-admit nothing (decisions use Redis TIME)', async () => {
    const skews = [-5000, 5000, 0, -5000, 5000, -5000, 5000, 0];
    expect(await scenario((i) => skews[i] ?? 0, true)).toEqual({ over: 0, errors: 0 });
  });
});
