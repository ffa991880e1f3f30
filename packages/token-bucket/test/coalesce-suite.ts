// The coalescing scenarios, shared by RedisTokenBucket and RedisSlidingWindow
// (sliding-window imports this file by relative path and calls it with its own
// limiters): tryTakes made in one tick go out as one script call whose
// verdicts are exactly those of the same calls made one by one, in call order;
// a failing key fails only its own decision; a store failure mid-batch decides
// every caller of the batch through onStoreError; aborts and NOSCRIPT behave.
import { randomUUID } from 'node:crypto';
import { sharedServers } from '@bulwark/servers/testing';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BATCH, isStoreUnavailableError, type RateLimitResult, type RedisCallOptions, type StoreErrorEvent, type StoreErrorPolicy } from '../src/index.js';
import { collectUnhandledRejections, usePrivateRedis } from './helpers.js';

/** The part of a Redis limiter the scenarios use. */
export interface CoalesceLimiter {
  tryTake(key: string, n?: number, options?: RedisCallOptions): Promise<RateLimitResult>;
  on(event: 'storeError', listener: (event: StoreErrorEvent) => void): () => void;
}

export interface CoalesceFactoryOptions {
  client: Redis;
  prefix: string;
  /** Capacity or limit, in a refill period / window far longer than the test (verdicts depend only on counts). */
  limit: number;
  coalesce: boolean;
  onStoreError?: StoreErrorPolicy;
  timeoutMs?: number;
}

export interface CoalesceSuiteOptions {
  /** The describe title, e.g. 'RedisTokenBucket'. */
  name: string;
  createLimiter(options: CoalesceFactoryOptions): CoalesceLimiter;
}

/** Counts the script calls (EVALSHA/EVAL) a client sends. */
function countScripts(client: Redis): { readonly count: number; restore(): void } {
  const original = client.sendCommand.bind(client);
  let count = 0;
  client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    if (command.name === 'evalsha' || command.name === 'eval') count++;
    return (original as (...args: unknown[]) => unknown)(command, ...rest);
  });
  return {
    get count() {
      return count;
    },
    restore: () => {
      client.sendCommand = original;
    },
  };
}

const verdict = (r: RateLimitResult): [boolean, number] => [r.allowed, r.remaining];

export function describeCoalescing(suite: CoalesceSuiteOptions): void {
  describe(`${suite.name}: tryTakes of one tick in one script call`, () => {
    let client: Redis;
    const unhandled = collectUnhandledRejections();

    beforeAll(async () => {
      client = new Redis(sharedServers().redisUrls[2]!, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
      await client.connect();
    });
    afterAll(() => {
      client.disconnect();
    });

    it('sends one script for the calls of one tick and answers each caller in call order', async () => {
      const limiter = suite.createLimiter({ client, prefix: `co:${randomUUID()}:`, limit: 3, coalesce: true });
      const scripts = countScripts(client);
      try {
        const results = await Promise.all([
          limiter.tryTake('a'),
          limiter.tryTake('b', 2),
          limiter.tryTake('a'),
          limiter.tryTake('a'),
          limiter.tryTake('b', 2),
          limiter.tryTake('a'),
          limiter.tryTake('b'),
        ]);
        expect(scripts.count).toBe(1);
        expect(results.map(verdict)).toEqual([
          [true, 2],
          [true, 1],
          [true, 1],
          [true, 0],
          [false, 1],
          [false, 0],
          [true, 0],
        ]);
        expect(results[5].retryAfterMs).toBeGreaterThan(0);
        expect(results.every((r) => r.limit === 3)).toBe(true);
      } finally {
        scripts.restore();
      }
    });

    it('gives exactly the verdicts of the same calls made one at a time (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ key: fc.constantFrom('x', 'y', 'z'), n: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 40 }),
          async (calls) => {
            const run = randomUUID();
            const coalesced = suite.createLimiter({ client, prefix: `co:${run}:c:`, limit: 5, coalesce: true });
            const single = suite.createLimiter({ client, prefix: `co:${run}:s:`, limit: 5, coalesce: false });
            const together = await Promise.all(calls.map(({ key, n }) => coalesced.tryTake(key, n)));
            const oneByOne: RateLimitResult[] = [];
            for (const { key, n } of calls) oneByOne.push(await single.tryTake(key, n));
            expect(together.map(verdict)).toEqual(oneByOne.map(verdict));
            expect(together.map((r) => r.retryAfterMs > 0)).toEqual(oneByOne.map((r) => r.retryAfterMs > 0));
          },
        ),
        { numRuns: 25 },
      );
    });

    it(`splits more than ${MAX_BATCH} calls into several scripts`, async () => {
      const limiter = suite.createLimiter({ client, prefix: `co:${randomUUID()}:`, limit: 1000, coalesce: true });
      const scripts = countScripts(client);
      try {
        const results = await Promise.all(Array.from({ length: MAX_BATCH + 10 }, () => limiter.tryTake('k')));
        expect(scripts.count).toBe(2);
        expect(results.map((r) => r.remaining)).toEqual(Array.from({ length: MAX_BATCH + 10 }, (_, i) => 999 - i));
      } finally {
        scripts.restore();
      }
    });

    it('with coalesce: false sends one script per call', async () => {
      const limiter = suite.createLimiter({ client, prefix: `co:${randomUUID()}:`, limit: 10, coalesce: false });
      const scripts = countScripts(client);
      try {
        await Promise.all([limiter.tryTake('a'), limiter.tryTake('b'), limiter.tryTake('a')]);
        expect(scripts.count).toBe(3);
      } finally {
        scripts.restore();
      }
    });

    it('fails only the decision whose key holds another type; the rest of the batch is decided', async () => {
      const prefix = `co:${randomUUID()}:`;
      await client.hset(`${prefix}bad`, 'field', 'value');
      const events: StoreErrorEvent[] = [];
      const throwing = suite.createLimiter({ client, prefix, limit: 2, coalesce: true, onStoreError: 'throw' });
      const denying = suite.createLimiter({ client, prefix, limit: 2, coalesce: true, onStoreError: 'deny' });
      throwing.on('storeError', (event) => events.push(event));
      const [first, bad, second, third] = await Promise.allSettled([
        throwing.tryTake('ok'),
        throwing.tryTake('bad'),
        throwing.tryTake('ok'),
        throwing.tryTake('ok'),
      ]);
      expect(first).toMatchObject({ status: 'fulfilled', value: { allowed: true, remaining: 1 } });
      expect(second).toMatchObject({ status: 'fulfilled', value: { allowed: true, remaining: 0 } });
      expect(third).toMatchObject({ status: 'fulfilled', value: { allowed: false } });
      expect(bad.status).toBe('rejected');
      expect((bad as PromiseRejectedResult).reason).toSatisfy(isStoreUnavailableError);
      expect(String(((bad as PromiseRejectedResult).reason as Error).message)).toMatch(/WRONGTYPE/);
      expect(events.map((e) => e.key)).toEqual(['bad']);
      const denied = await Promise.all([denying.tryTake('bad'), denying.tryTake('other')]);
      expect(denied.map((r) => r.allowed)).toEqual([false, true]);
      expect(denied[0].retryAfterMs).toBe(1000);
      expect(await client.hget(`${prefix}bad`, 'field')).toBe('value');
    });

    it('never sends a caller that aborted while queued; one aborted after the flush rejects at once', async () => {
      const limiter = suite.createLimiter({ client, prefix: `co:${randomUUID()}:`, limit: 2, coalesce: true });
      const early = new AbortController();
      const late = new AbortController();
      const first = limiter.tryTake('k', 1, { signal: early.signal });
      const second = limiter.tryTake('k', 1, { signal: late.signal });
      early.abort(new Error('early'));
      // The flush was scheduled first, so after this tick the batch has gone out without `first`.
      await new Promise<void>((resolve) => process.nextTick(resolve));
      // `late` aborts before the reply can arrive.
      late.abort(new Error('late'));
      await expect(first).rejects.toThrow('early');
      await expect(second).rejects.toThrow('late');
      // `second` was decided in Redis (one token), `first` never was.
      expect(verdict(await limiter.tryTake('k'))).toEqual([true, 0]);
      await expect(limiter.tryTake('k', 1, { signal: AbortSignal.abort(new Error('before')) })).rejects.toThrow('before');
    });

    it('reloads its script after SCRIPT FLUSH (NOSCRIPT fallback)', async () => {
      const limiter = suite.createLimiter({ client, prefix: `co:${randomUUID()}:`, limit: 5, coalesce: true });
      expect((await limiter.tryTake('k')).allowed).toBe(true);
      await client.script('FLUSH');
      const again = await Promise.all([limiter.tryTake('k'), limiter.tryTake('k')]);
      expect(again.map(verdict)).toEqual([
        [true, 3],
        [true, 2],
      ]);
    });

    it('applies ioredis keyPrefix to every key of a batch', async () => {
      const keyPrefix = `kp:${randomUUID()}:`;
      const prefixed = new Redis(sharedServers().redisUrls[2]!, { keyPrefix, lazyConnect: true, enableOfflineQueue: false });
      await prefixed.connect();
      try {
        const limiter = suite.createLimiter({ client: prefixed, prefix: 'p:', limit: 5, coalesce: true });
        await Promise.all([limiter.tryTake('a'), limiter.tryTake('b')]);
        expect((await client.keys(`${keyPrefix}p:*`)).sort()).toEqual([`${keyPrefix}p:a`, `${keyPrefix}p:b`]);
      } finally {
        prefixed.disconnect();
      }
    });

    it('left no unhandled rejection behind', () => {
      expect(unhandled).toEqual([]);
    });
  });

  describe(`${suite.name}: a store failure mid-batch`, () => {
    const unhandled = collectUnhandledRejections();
    const redis = usePrivateRedis();
    const { ready } = redis;

    it('decides every caller of a batch lost to a crash through onStoreError, with one event each', async () => {
      const { client, group } = redis;
      const prefix = `crash:${randomUUID()}:`;
      const denying = suite.createLimiter({ client, prefix, limit: 100, coalesce: true, onStoreError: 'deny', timeoutMs: 2_000 });
      const throwing = suite.createLimiter({ client, prefix, limit: 100, coalesce: true, onStoreError: 'throw', timeoutMs: 2_000 });
      const events: string[] = [];
      denying.on('storeError', ({ key }) => events.push(key));
      expect((await denying.tryTake('warm')).allowed).toBe(true);
      // The batches are written on the next tick; SIGSTOP then SIGKILL Redis while they are in flight.
      await group.redis(0).pause();
      const denied = Promise.all(['a', 'b', 'c', 'a'].map((key) => denying.tryTake(key)));
      const thrown = Promise.allSettled([throwing.tryTake('a'), throwing.tryTake('b')]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await group.redis(0).kill();
      expect((await denied).map((r) => [r.allowed, r.retryAfterMs])).toEqual([
        [false, 1000],
        [false, 1000],
        [false, 1000],
        [false, 1000],
      ]);
      expect(events).toEqual(['a', 'b', 'c', 'a']);
      const settled = await thrown;
      expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
      for (const s of settled) expect((s as PromiseRejectedResult).reason).toSatisfy(isStoreUnavailableError);
      await group.redis(0).restart();
      await ready();
      expect((await Promise.all([denying.tryTake('a'), denying.tryTake('a')])).map(verdict)).toEqual([
        [true, 99],
        [true, 98],
      ]);
      expect(unhandled).toEqual([]);
    });

    it('ends a batch on a frozen Redis after timeoutMs, every caller by its policy', async () => {
      const { client, group } = redis;
      const limiter = suite.createLimiter({ client, prefix: `frozen:${randomUUID()}:`, limit: 5, coalesce: true, onStoreError: 'allow', timeoutMs: 300 });
      await ready();
      expect((await limiter.tryTake('k')).allowed).toBe(true);
      await group.redis(0).pause();
      try {
        const started = performance.now();
        const results = await Promise.all([limiter.tryTake('k'), limiter.tryTake('j'), limiter.tryTake('k')]);
        expect(results.map((r) => r.allowed)).toEqual([true, true, true]);
        expect(performance.now() - started).toBeLessThan(2_000);
      } finally {
        await group.redis(0).resume();
      }
      await ready();
      expect(unhandled).toEqual([]);
    });
  });
}
