import { randomUUID } from 'node:crypto';
import { sharedServers } from '@bulwark/servers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisSlidingWindow, SlidingLog, isInvalidArgumentError, isLimiterClosedError, isWaitExceedsDeadlineError } from '../src/index.js';

describe('RedisSlidingWindow', () => {
  let client: Redis;
  const prefix = `test:${randomUUID()}:`;

  beforeAll(async () => {
    client = new Redis(sharedServers().redisUrls[1]!, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
    await client.connect();
  });
  afterAll(() => client.disconnect());

  it.each(['log', 'counter'] as const)('%s: admits up to the limit, refuses without recording, sets an expiry', async (algorithm) => {
    const limiter = new RedisSlidingWindow({ client, algorithm, prefix: `${prefix}${algorithm}:`, limit: 3, windowMs: 60_000 });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await limiter.tryTake('a'));
    expect(results.map((r) => [r.allowed, r.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
    ]);
    const key = `${prefix}${algorithm}:a`;
    const before = algorithm === 'log' ? await client.zcard(key) : await client.get(key);
    const rejected = await limiter.tryTake('a');
    expect(rejected.allowed).toBe(false);
    expect(rejected.retryAfterMs).toBeGreaterThan(0);
    expect(algorithm === 'log' ? await client.zcard(key) : await client.get(key)).toEqual(before);
    const ttl = await client.pttl(key);
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(algorithm === 'log' ? 61_000 : 121_000);
    expect((await limiter.tryTake('b', 3)).allowed).toBe(true);
  });

  it.each(['log', 'counter'] as const)('%s: checks several policies all-or-nothing in one key', async (algorithm) => {
    const limiter = new RedisSlidingWindow({
      client,
      algorithm,
      prefix: `${prefix}multi-${algorithm}:`,
      policies: [
        { limit: 5, windowMs: 60_000 },
        { limit: 8, windowMs: 3_600_000 },
      ],
    });
    expect((await limiter.tryTake('m', 5)).allowed).toBe(true);
    expect((await limiter.tryTake('m', 1)).allowed).toBe(false); // the first policy is full…
    expect((await limiter.tryTake('m', 1)).remaining).toBe(0);
    // …so the second was not charged: 5 of its 8 are used, not 7.
    const key = `${prefix}multi-${algorithm}:m`;
    // The counter stores "start1 count1 previous1 start2 count2 previous2".
    const charged = algorithm === 'log' ? String(await client.zcard(key)) : (await client.get(key))!.split(' ')[4];
    expect(charged).toBe('5');
    expect(await client.keys(`${key}*`)).toHaveLength(1);
  });

  it('take() retries until admitted, fails fast beyond maxWaitMs, and stops on abort or close', async () => {
    const limiter = new RedisSlidingWindow({ client, algorithm: 'log', prefix, limit: 1, windowMs: 300 });
    await limiter.tryTake('t');
    const result = await limiter.take('t', 1, { maxWaitMs: 1000 });
    expect(result.waitedMs).toBeGreaterThan(0);
    await expect(limiter.take('t', 1, { maxWaitMs: 10 })).rejects.toSatisfy(isWaitExceedsDeadlineError);
    const slow = new RedisSlidingWindow({ client, algorithm: 'log', prefix, limit: 1, windowMs: 30_000 });
    await slow.tryTake('u');
    const controller = new AbortController();
    const aborted = slow.take('u', 1, { signal: controller.signal });
    const closed = slow.take('u', 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort(new Error('enough'));
    await expect(aborted).rejects.toThrow('enough');
    await slow.close();
    await expect(closed).rejects.toSatisfy(isLimiterClosedError);
  });

  it('rejects bad input at once', async () => {
    expect(() => new RedisSlidingWindow({ client, algorithm: 'log', limit: 0, windowMs: 10 })).toThrow(RangeError);
    expect(() => new RedisSlidingWindow({ client, algorithm: 'fixed' as 'log', limit: 1, windowMs: 10 })).toThrow(/algorithm/);
    expect(() => new RedisSlidingWindow({ client, algorithm: 'log', policies: [] })).toThrow(/policies/);
    expect(() => new RedisSlidingWindow({ client: {} as Redis, algorithm: 'log', limit: 1, windowMs: 1 })).toThrow(/client/);
    expect(
      () => new RedisSlidingWindow({ client, algorithm: 'log', limit: 1, windowMs: 1, onStoreError: new SlidingLog({ limit: 1, windowMs: 1 }) }),
    ).not.toThrow();
    const limiter = new RedisSlidingWindow({ client, algorithm: 'counter', prefix, limit: 5, windowMs: 1000 });
    await expect(limiter.tryTake('x', 6)).rejects.toSatisfy(isInvalidArgumentError);
    await expect(limiter.tryTake('x', 0)).rejects.toSatisfy(isInvalidArgumentError);
  });
});
