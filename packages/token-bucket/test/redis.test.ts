import { randomUUID } from 'node:crypto';
import { sharedServers } from '@bulwark/servers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisTokenBucket, TokenBucket, isInvalidArgumentError, isLimiterClosedError, isWaitExceedsDeadlineError } from '../src/index.js';

describe('RedisTokenBucket', () => {
  let client: Redis;
  const prefix = `test:${randomUUID()}:`;

  beforeAll(async () => {
    client = new Redis(sharedServers().redisUrls[1]!, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
    await client.connect();
  });
  afterAll(() => client.disconnect());

  it('takes from the bucket, refuses without consuming, and sets an expiry', async () => {
    const limiter = new RedisTokenBucket({ client, prefix, capacity: 3, refillRate: 1, intervalMs: 60_000 });
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await limiter.tryTake('a'));
    expect(results.map((r) => [r.allowed, r.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
    ]);
    const before = await client.get(`${prefix}a`);
    const rejected = await limiter.tryTake('a');
    expect(rejected.allowed).toBe(false);
    expect(rejected.retryAfterMs).toBeGreaterThan(50_000);
    expect(await client.get(`${prefix}a`)).toBe(before);
    const ttl = await client.pttl(`${prefix}a`);
    expect(ttl).toBeGreaterThan(170_000); // time to refill 3 tokens + slack
    expect(ttl).toBeLessThanOrEqual(181_000);
    expect((await limiter.tryTake('b', 3)).allowed).toBe(true);
  });

  it('checks several policies all-or-nothing in one key', async () => {
    const limiter = new RedisTokenBucket({
      client,
      prefix,
      policies: [
        { capacity: 5, refillRate: 5, intervalMs: 60_000 },
        { capacity: 8, refillRate: 8, intervalMs: 3_600_000 },
      ],
    });
    expect((await limiter.tryTake('multi', 5)).allowed).toBe(true);
    // The first policy has 0 left: the second must not be charged either.
    expect((await limiter.tryTake('multi', 3)).allowed).toBe(false);
    // Stored as "anchor1 owed1 anchor2 owed2": the second policy owes 5 of its 8, not 8.
    const [, owed1, , owed2] = (await client.get(`${prefix}multi`))!.split(' ').map(Number);
    expect([owed1, owed2]).toEqual([0, -3]);
    expect(await client.keys(`${prefix}multi*`)).toHaveLength(1);
  });

  it('reserves in debt, fails fast beyond maxWaitMs and refunds on cancel', async () => {
    const limiter = new RedisTokenBucket({ client, prefix, capacity: 2, refillRate: 1, intervalMs: 10_000 });
    expect((await limiter.reserve('r', 2)).delayMs).toBe(0);
    const reservation = await limiter.reserve('r', 1);
    expect(reservation.delayMs).toBeGreaterThan(9_000);
    await expect(limiter.take('r', 1, { maxWaitMs: 1_000 })).rejects.toSatisfy(isWaitExceedsDeadlineError);
    await reservation.cancel();
    const after = await limiter.tryTake('r');
    expect(after.allowed).toBe(false);
    expect(after.retryAfterMs).toBeLessThan(10_000); // the reserved token came back
  });

  it('take() gives the tokens back on abort and on close', async () => {
    const limiter = new RedisTokenBucket({ client, prefix, capacity: 1, refillRate: 1, intervalMs: 20_000 });
    await limiter.tryTake('w');
    const controller = new AbortController();
    const waiting = limiter.take('w', 1, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    const closing = limiter.take('w', 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await limiter.close();
    await expect(closing).rejects.toSatisfy(isLimiterClosedError);
    await expect(limiter.take('w')).rejects.toSatisfy(isLimiterClosedError);
    const retry = (await limiter.tryTake('w')).retryAfterMs;
    expect(retry).toBeLessThanOrEqual(20_000); // no debt left behind by the two cancelled takes
  });

  it('rejects bad input at once', async () => {
    expect(() => new RedisTokenBucket({ client, capacity: 0, refillRate: 1 })).toThrow(RangeError);
    expect(() => new RedisTokenBucket({ client, policies: [] })).toThrow(/policies/);
    expect(() => new RedisTokenBucket({ client: {} as Redis, capacity: 1, refillRate: 1 })).toThrow(/client/);
    expect(
      () => new RedisTokenBucket({ client, capacity: 1, refillRate: 1, onStoreError: 'maybe' as unknown as 'allow' }),
    ).toThrow(/onStoreError/);
    const limiter = new RedisTokenBucket({ client, prefix, capacity: 5, refillRate: 1 });
    await expect(limiter.tryTake('x', 6)).rejects.toSatisfy(isInvalidArgumentError);
    await expect(limiter.tryTake('x', 0)).rejects.toSatisfy(isInvalidArgumentError);
  });

  it('accepts an in-memory TokenBucket as fallback (structural FallbackLimiter)', () => {
    const fallback = new TokenBucket({ capacity: 5, refillRate: 1 });
    expect(() => new RedisTokenBucket({ client, capacity: 5, refillRate: 1, onStoreError: fallback })).not.toThrow();
  });
});
