// The store-down scenarios, shared by RedisTokenBucket and RedisSlidingWindow
// (sliding-window imports this file by relative path and calls it with its own
// limiter). Redis killed mid-run: the declared onStoreError policy decides the
// very next call, nothing is left as an unhandled rejection, and the limiter
// works again once Redis is back. Redis paused (SIGSTOP): calls end after timeoutMs.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isStoreUnavailableError, type FallbackLimiter, type RateLimitResult, type StoreErrorEvent, type StoreErrorPolicy, type TakeResult } from '../src/index.js';
import { collectUnhandledRejections, usePrivateRedis } from './helpers.js';

/** The part of a Redis limiter the scenarios use. */
export interface StoreDownLimiter {
  tryTake(key?: string): Promise<RateLimitResult>;
  take(key: string): Promise<TakeResult>;
  on(event: 'storeError', listener: (event: StoreErrorEvent) => void): () => void;
}

/** Which scenario a limiter is built for: one per onStoreError policy, and the one frozen by SIGSTOP. */
export type StoreDownRole = 'allow' | 'deny' | 'throw' | 'fallback' | 'frozen';

export interface LimiterFactoryOptions {
  client: Redis;
  prefix: string;
  role: StoreDownRole;
  /** Capacity or limit, in a window or refill period far longer than the test. */
  limit: number;
  onStoreError: StoreErrorPolicy;
  timeoutMs: number;
}

export interface StoreDownSuiteOptions<L extends StoreDownLimiter> {
  /** The describe title, e.g. 'RedisTokenBucket'. */
  name: string;
  createLimiter(options: LimiterFactoryOptions): L;
  /** An in-memory limiter that admits one call per minute. */
  createFallback(): FallbackLimiter;
  /** Extra checks once Redis is back (with each policy's limiter), e.g. that every script loads again. */
  afterRecovery?(limiters: Record<'allow' | 'deny' | 'throw' | 'fallback', L>): Promise<void>;
}

export function describeStoreDown<L extends StoreDownLimiter>(suite: StoreDownSuiteOptions<L>): void {
  describe(`${suite.name} when Redis goes down`, () => {
    const unhandled = collectUnhandledRejections();
    const redis = usePrivateRedis();
    const { ready } = redis;

    it('applies the declared policy on the next call and recovers after restart', async () => {
      const { client, group } = redis;
      const prefix = `down:${randomUUID()}:`;
      const policies = { allow: 'allow', deny: 'deny', throw: 'throw', fallback: suite.createFallback() } as const;
      const build = (role: keyof typeof policies): L =>
        suite.createLimiter({ client, prefix: `${prefix}${role}:`, role, limit: 100, onStoreError: policies[role], timeoutMs: 500 });
      const limiters = { allow: build('allow'), deny: build('deny'), throw: build('throw'), fallback: build('fallback') };
      const storeErrors: unknown[] = [];
      for (const limiter of Object.values(limiters)) limiter.on('storeError', ({ error }) => storeErrors.push(error));

      for (const limiter of Object.values(limiters)) expect((await limiter.tryTake('k')).allowed).toBe(true);

      await group.redis(0).kill();

      expect((await limiters.allow.tryTake('k')).allowed).toBe(true);
      const denied = await limiters.deny.tryTake('k');
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBeGreaterThan(0);
      await expect(limiters.throw.tryTake('k')).rejects.toSatisfy(isStoreUnavailableError);
      expect((await limiters.fallback.tryTake('k')).allowed).toBe(true); // the fallback's one token
      expect((await limiters.fallback.tryTake('k')).allowed).toBe(false); // …and then the fallback's refusal
      await expect(limiters.throw.take('k')).rejects.toSatisfy(isStoreUnavailableError);
      expect(storeErrors.length).toBeGreaterThanOrEqual(6);

      await group.redis(0).restart();
      await ready();
      // Back to Redis (which restarted empty): the script is loaded again through the NOSCRIPT fallback.
      const recovered = await limiters.throw.tryTake('k');
      expect(recovered.allowed).toBe(true);
      expect(recovered.remaining).toBe(99);
      await suite.afterRecovery?.(limiters);
      expect(await client.exists(`${prefix}throw:k`)).toBe(1);
      expect(unhandled).toEqual([]);
    });

    it('does not hang on a frozen Redis: the call ends after timeoutMs and the policy applies', async () => {
      const { client, group } = redis;
      const limiter = suite.createLimiter({ client, prefix: `pause:${randomUUID()}:`, role: 'frozen', limit: 5, onStoreError: 'deny', timeoutMs: 300 });
      await ready();
      expect((await limiter.tryTake()).allowed).toBe(true);
      await group.redis(0).pause();
      try {
        const result = await limiter.tryTake();
        expect(result.allowed).toBe(false);
      } finally {
        await group.redis(0).resume();
      }
      await ready();
      expect(unhandled).toEqual([]);
    });
  });
}
