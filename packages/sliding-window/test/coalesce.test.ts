import { randomUUID } from 'node:crypto';
import { sharedServers } from '@bulwark/servers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCoalescing } from '../../token-bucket/test/coalesce-suite.js';
import { redisTimeMs } from '../../token-bucket/test/helpers.js';
import { RedisSlidingWindow } from '../src/index.js';

for (const algorithm of ['counter', 'log'] as const) {
  describeCoalescing({
    name: `RedisSlidingWindow (${algorithm})`,
    createLimiter: ({ client, prefix, limit, coalesce, onStoreError, timeoutMs }) =>
      new RedisSlidingWindow({
        client,
        algorithm,
        prefix,
        limit,
        windowMs: 3_600_000,
        coalesce,
        ...(onStoreError === undefined ? {} : { onStoreError }),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      }),
  });
}

describe('RedisSlidingWindow coalescing: Redis time and options', () => {
  let client: Redis;

  beforeAll(async () => {
    client = new Redis(sharedServers().redisUrls[2]!, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
    await client.connect();
  });
  afterAll(() => client.disconnect());

  it.each(['log', 'counter'] as const)('%s: every decision of a batch reports the batch’s Redis time', async (algorithm) => {
    const limiter = new RedisSlidingWindow({ client, algorithm, prefix: `co:${randomUUID()}:`, limit: 5, windowMs: 1000 });
    const before = await redisTimeMs(client);
    const results = await Promise.all([limiter.tryTake('a'), limiter.tryTake('b'), limiter.tryTake('a')]);
    const times = new Set(results.map((r) => r.serverTimeMs));
    expect(times.size).toBe(1);
    expect(results[0].serverTimeMs).toBeGreaterThanOrEqual(before);
    // The log is idle one window after its newest entry; the counter two windows after its window's start.
    expect(new Set(results.map((r) => r.resetMs)).size).toBe(1);
    const reset = results[0].resetMs;
    expect(algorithm === 'log' ? reset === 1000 : reset > 1000).toBe(true);
  });

  it('rejects a non-boolean coalesce option', () => {
    expect(() => new RedisSlidingWindow({ client, algorithm: 'log', limit: 1, windowMs: 1000, coalesce: 'no' as never })).toThrow(/coalesce/);
  });
});
