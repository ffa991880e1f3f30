// Redis killed mid-run: the declared onStoreError policy decides the very next
// call, nothing is left as an unhandled rejection, and the limiter works again
// once Redis is back. Redis paused (SIGSTOP): calls end after timeoutMs.
import { randomUUID } from 'node:crypto';
import { startServerGroup, type PrivateServerGroup } from '@bulwark/servers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisSlidingWindow, SlidingLog, isStoreUnavailableError, type StoreErrorPolicy } from '../src/index.js';

describe('RedisSlidingWindow when Redis goes down', () => {
  let group: PrivateServerGroup;
  let client: Redis;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    group = await startServerGroup({ redis: 1 });
    // What users should set: fail fast while disconnected instead of queueing.
    client = new Redis(group.redisUrls[0]!, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => 50,
    });
    client.on('error', () => undefined);
    await client.connect();
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    client.disconnect();
    await group.close();
  });

  async function ready(): Promise<void> {
    if (client.status === 'ready') return;
    await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  }

  it('applies the declared policy on the next call and recovers after restart', async () => {
    const prefix = `down:${randomUUID()}:`;
    const fallback = new SlidingLog({ limit: 1, windowMs: 60_000 });
    const policies: Record<string, StoreErrorPolicy> = { allow: 'allow', deny: 'deny', throw: 'throw', fallback };
    const limiters = Object.fromEntries(
      Object.entries(policies).map(([name, onStoreError]) => [
        name,
        new RedisSlidingWindow({ client, algorithm: name === 'deny' ? 'counter' : 'log', prefix: `${prefix}${name}:`, limit: 100, windowMs: 60_000, onStoreError, timeoutMs: 500 }),
      ]),
    ) as Record<string, RedisSlidingWindow>;
    const storeErrors: unknown[] = [];
    for (const limiter of Object.values(limiters)) limiter.on('storeError', ({ error }) => storeErrors.push(error));

    for (const limiter of Object.values(limiters)) expect((await limiter.tryTake('k')).allowed).toBe(true);

    await group.redis(0).kill();

    expect((await limiters.allow!.tryTake('k')).allowed).toBe(true);
    const denied = await limiters.deny!.tryTake('k');
    expect(denied.allowed).toBe(false);
    expect(denied.retryAfterMs).toBeGreaterThan(0);
    await expect(limiters.throw!.tryTake('k')).rejects.toSatisfy(isStoreUnavailableError);
    expect((await limiters.fallback!.tryTake('k')).allowed).toBe(true); // the fallback's one token
    expect((await limiters.fallback!.tryTake('k')).allowed).toBe(false); // …and then the fallback's refusal
    await expect(limiters.throw!.take('k')).rejects.toSatisfy(isStoreUnavailableError);
    expect(storeErrors.length).toBeGreaterThanOrEqual(6);

    await group.redis(0).restart();
    await ready();
    // Back to Redis (which restarted empty): the script is loaded again through the NOSCRIPT fallback.
    const recovered = await limiters.throw!.tryTake('k');
    expect(recovered.allowed).toBe(true);
    expect(recovered.remaining).toBe(99);
    expect((await limiters.deny!.tryTake('k')).allowed).toBe(true); // the counter script loads again too
    expect(await client.exists(`${prefix}throw:k`)).toBe(1);
    expect(unhandled).toEqual([]);
  });

  it('does not hang on a frozen Redis: the call ends after timeoutMs and the policy applies', async () => {
    const limiter = new RedisSlidingWindow({ client, algorithm: 'counter', prefix: `pause:${randomUUID()}:`, limit: 5, windowMs: 1000, onStoreError: 'deny', timeoutMs: 300 });
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
