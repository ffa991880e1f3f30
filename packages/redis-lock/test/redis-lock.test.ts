// redis-lock against real redis-server processes.
import { randomUUID } from 'node:crypto';
import { sharedServers, startServerGroup, type PrivateServerGroup } from '@bulwark/servers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createLock,
  isInvalidOptionsError,
  isLockHeldError,
  isLockLostError,
  isStoreUnavailableError,
  type LockHeldError,
  type RedisLockOptions,
} from '../src/index.js';

const { redisUrls } = sharedServers();
let redis: Redis;
const unique = (): string => `t-${randomUUID()}`;
const opts = (key: string, extra: Partial<RedisLockOptions> = {}): RedisLockOptions => ({
  redis,
  key,
  ttlMs: 2_000,
  retry: { attempts: 1 },
  ...extra,
});

beforeAll(() => {
  redis = new Redis(redisUrls[0]!, { commandTimeout: 2_000 });
});
afterAll(() => {
  redis.disconnect();
});

describe('acquire and release', () => {
  it('excludes a second owner, reports the holder TTL, and frees the key on release', async () => {
    const key = unique();
    const lock = createLock(opts(key));
    const lease = await lock.acquire();
    expect(await redis.pttl(`lock:{${key}}`)).toBeGreaterThan(1_000);
    const error = await lock.acquire().catch((e: unknown) => e);
    expect(isLockHeldError(error)).toBe(true);
    expect((error as LockHeldError).attempts).toBe(1);
    expect((error as LockHeldError).retryAfterMs).toBeGreaterThan(0);
    expect(lease.remainingMs()).toBeGreaterThan(0);
    expect(await lease.release()).toBe(true);
    expect(await redis.exists(`lock:{${key}}`)).toBe(0);
    expect(lock.stats()).toMatchObject({ acquired: 1, contended: 1, released: 1, held: 0 });
  });

  it('hands out strictly increasing fencing tokens, one INCR per successful acquire', async () => {
    const lock = createLock(opts(unique()));
    const tokens: number[] = [];
    for (let i = 0; i < 20; i++) {
      const lease = await lock.acquire();
      tokens.push(lease.fencingToken);
      await lease.release();
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBe(tokens[i - 1]! + 1);
  });

  it('never deletes or extends a lock that another owner took after expiry', async () => {
    const key = unique();
    const first = createLock(opts(key, { ttlMs: 300, minValidityMs: 1, autoExtend: false }));
    const second = createLock(opts(key, { retry: { untilMs: 5_000, delayMs: 20, jitterMs: 10 } }));
    const stale = await first.acquire();
    const fresh = await second.acquire(); // waits until the first lease's TTL ran out in Redis
    expect(fresh.fencingToken).toBeGreaterThan(stale.fencingToken);
    await expect(stale.extend()).rejects.toSatisfy(isLockLostError);
    expect(await stale.release()).toBe(false);
    expect(await redis.get(`lock:{${key}}`)).not.toBeNull();
    expect(await fresh.release()).toBe(true);
  });

  it('retries until the holder releases, and the waiter can be aborted', async () => {
    const key = unique();
    const holder = await createLock(opts(key)).acquire();
    const waiter = createLock(opts(key, { retry: { untilMs: 10_000, delayMs: 10, jitterMs: 10 } }));
    const controller = new AbortController();
    const aborted = waiter.acquire({ signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    const waiting = waiter.acquire();
    setTimeout(() => void holder.release(), 100).unref();
    const lease = await waiting;
    expect(lease.fencingToken).toBeGreaterThan(holder.fencingToken);
    await lease.release();
  });

  it('coalesces the writes of concurrent operations on one connection, replies and order unchanged', async () => {
    const client = new Redis(redisUrls[0]!);
    try {
      const key = unique();
      await (await createLock({ redis: client, key, ttlMs: 5_000 }).acquire()).release(); // scripts cached: no NOSCRIPT round below
      const socket = client.stream;
      const writev = vi.spyOn(socket, '_writev');
      const write = vi.spyOn(socket, '_write');
      const locks = Array.from({ length: 32 }, (_, i) => createLock({ redis: client, key: `${key}-${i}`, ttlMs: 5_000, retry: { attempts: 1 } }));
      const marker = unique();
      const [leases, echoed] = await Promise.all([Promise.all(locks.map((lock) => lock.acquire())), client.echo(marker)]);
      expect(echoed).toBe(marker); // a command of the application's issued in the same tick gets its own reply
      for (const [i, lease] of leases.entries()) {
        expect(lease.key).toBe(`${key}-${i}`);
        expect(lease.fencingToken).toBeGreaterThan(0);
      }
      expect(await Promise.all(leases.map((lease) => lease.release()))).toEqual(leases.map(() => true));
      // 32 acquires + 1 ECHO in one tick, 32 releases in another. In each, the first two
      // commands find at most one other awaiting its reply and are written at once; the rest
      // go in writes of up to 16 commands: 2 × (2 + 2) writes in all (65 without coalescing).
      const sent = writev.mock.calls.length + write.mock.calls.length;
      expect(sent).toBeLessThanOrEqual(8);
      expect(writev.mock.calls.flatMap((call) => call[0] as unknown[]).length).toBeGreaterThan(32);
      for (let i = 0; i < 32; i++) expect(await client.exists(`lock:{${key}-${i}}`)).toBe(0);
    } finally {
      client.disconnect();
    }
  });

  it('reloads the scripts after SCRIPT FLUSH (NOSCRIPT fallback)', async () => {
    const lock = createLock(opts(unique()));
    await redis.script('FLUSH');
    const lease = await lock.acquire();
    await redis.script('FLUSH');
    await lease.extend();
    await redis.script('FLUSH');
    expect(await lease.release()).toBe(true);
  });
});

describe('lease lifecycle', () => {
  it('auto-extends so the lock outlives its TTL while held', async () => {
    const key = unique();
    const lease = await createLock(opts(key, { ttlMs: 1_000, minValidityMs: 1 })).acquire();
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    expect(lease.signal.aborted).toBe(false);
    expect(lease.extensions).toBeGreaterThanOrEqual(1);
    expect(await redis.get(`lock:{${key}}`)).not.toBeNull();
    await lease.release();
  });

  it('aborts lease.signal with LockLostError when the key is taken from under us', async () => {
    const key = unique();
    const lock = createLock(opts(key, { ttlMs: 400, minValidityMs: 1 }));
    const lost = vi.fn();
    lock.on('lost', lost);
    const lease = await lock.acquire();
    await redis.set(`lock:{${key}}`, 'someone-else');
    const reason = await new Promise<unknown>((resolve) => lease.signal.addEventListener('abort', () => resolve(lease.signal.reason)));
    expect(isLockLostError(reason)).toBe(true);
    expect(lost).toHaveBeenCalledTimes(1);
    expect(await redis.get(`lock:{${key}}`)).toBe('someone-else');
  });

  it('using() releases after success and after a throw', async () => {
    const key = unique();
    const lock = createLock(opts(key));
    const result = await lock.using(async (signal, lease) => {
      expect(signal.aborted).toBe(false);
      expect(await redis.exists(`lock:{${key}}`)).toBe(1);
      return lease.fencingToken;
    });
    expect(typeof result).toBe('number');
    expect(await redis.exists(`lock:{${key}}`)).toBe(0);
    await expect(
      lock.using(() => {
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(await redis.exists(`lock:{${key}}`)).toBe(0);
  });

  it('close() releases every held lease and refuses new acquires', async () => {
    const key = unique();
    const lock = createLock(opts(key));
    const lease = await lock.acquire();
    await lock.close();
    expect(lease.state).toBe('released');
    expect(await redis.exists(`lock:{${key}}`)).toBe(0);
    await expect(lock.acquire()).rejects.toThrow(/closed/);
  });
});

describe('clock', () => {
  it('wall-clock jumps of ±30 s change nothing: validity comes from the monotonic clock', async () => {
    const key = unique();
    const lock = createLock(opts(key, { ttlMs: 5_000 }));
    const realNow = Date.now.bind(Date);
    const spy = vi.spyOn(Date, 'now');
    try {
      spy.mockImplementation(() => realNow() + 30_000);
      const first = await lock.acquire();
      spy.mockImplementation(() => realNow() - 30_000);
      expect(first.remainingMs()).toBeGreaterThan(4_000);
      expect(first.remainingMs()).toBeLessThanOrEqual(5_000);
      await first.extend();
      expect(first.remainingMs()).toBeGreaterThan(4_000);
      expect(first.signal.aborted).toBe(false);
      await first.release();
      spy.mockImplementation(() => realNow() + 30_000);
      const second = await lock.acquire();
      expect(second.remainingMs()).toBeGreaterThan(4_000);
      await second.release();
    } finally {
      spy.mockRestore();
    }
  });

  it('an injected clock decides validity: a slow round trip yields no lease with less than minValidityMs', async () => {
    let now = 0;
    // Each reading advances 900 ms: the acquire round trip "took" longer than ttl - minValidity allows.
    const clock = { now: () => (now += 900) };
    const key = unique();
    const lock = createLock(opts(key, { ttlMs: 1_000, minValidityMs: 200, clock }));
    const error = await lock.acquire().catch((e: unknown) => e);
    expect(isStoreUnavailableError(error)).toBe(true);
    expect((error as Error).message).toMatch(/minValidityMs/);
    // The too-late lock was released rather than left to block others.
    await vi.waitFor(async () => expect(await redis.exists(`lock:{${key}}`)).toBe(0));
  });
});

describe('options', () => {
  it.each([
    [{ ttlMs: 0 }, 'ttlMs'],
    [{ ttlMs: 1.5 }, 'ttlMs'],
    [{ key: '' }, 'key'],
    [{ keyPrefix: 'a{b' }, 'keyPrefix'],
    [{ driftFactor: 0.9 }, 'driftFactor'],
    [{ minValidityMs: 5_000 }, 'minValidityMs'],
    [{ retry: { attempts: 0 } }, 'retry.attempts'],
    [{ autoExtend: { beforeExpiryMs: -1 } }, 'autoExtend.beforeExpiryMs'],
    [{ maxExtensions: -1 }, 'maxExtensions'],
    [{ clock: {} }, 'clock'],
  ] as [Partial<RedisLockOptions>, string][])('rejects %j at construction, naming %s', (bad, option) => {
    let caught: unknown;
    try {
      createLock({ ...opts('x'), ...bad });
    } catch (error) {
      caught = error;
    }
    expect(isInvalidOptionsError(caught)).toBe(true);
    expect((caught as { option: string }).option).toBe(option);
  });
});

describe('fencing across data loss (private server)', () => {
  let group: PrivateServerGroup;
  let client: Redis;
  beforeAll(async () => {
    group = await startServerGroup({ redis: 1 });
    client = new Redis(group.redisUrls[0]!, { commandTimeout: 1_000 });
    client.on('error', () => undefined); // refused connections while the server restarts
  });
  afterAll(async () => {
    client.disconnect();
    await group.close();
  });

  it('fencing tokens still increase after FLUSHALL and after a restart that lost every key', async () => {
    const key = unique();
    const lock = createLock({ redis: client, key, ttlMs: 2_000, attemptTimeoutMs: 500, retry: { attempts: 20, delayMs: 50, jitterMs: 0 } });
    const tokens: number[] = [];
    const takeOne = async (): Promise<void> => {
      const lease = await lock.acquire();
      tokens.push(lease.fencingToken);
      expect(await lease.release()).toBe(true);
    };
    await takeOne();
    await takeOne();
    expect(tokens[1]).toBe(tokens[0]! + 1);
    await client.flushall();
    expect(await client.exists(`lock:{${key}}:fence`)).toBe(0);
    await takeOne(); // counter re-seeded from Redis's clock (µs), above every token handed out before
    await takeOne();
    await group.redis(0).restart(); // no persistence: the counter is gone again
    await takeOne();
    await takeOne();
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
    expect(Number.isSafeInteger(tokens.at(-1))).toBe(true);
  });
});

describe('store failures (private servers)', () => {
  let group: PrivateServerGroup;
  let client: Redis;
  beforeAll(async () => {
    group = await startServerGroup({ redis: 1 });
    client = new Redis(group.redisUrls[0]!, { commandTimeout: 1_000, maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    client.disconnect();
    await group.close();
  });

  it('a paused Redis fails acquire with StoreUnavailableError after the retry budget, not a hang', async () => {
    const lock = createLock({ redis: client, key: unique(), ttlMs: 1_000, attemptTimeoutMs: 150, retry: { attempts: 2, delayMs: 10, jitterMs: 0 } });
    await group.redis(0).pause();
    try {
      const error = await lock.acquire().catch((e: unknown) => e);
      expect(isStoreUnavailableError(error)).toBe(true);
      expect((error as { attempts: number }).attempts).toBe(2);
      expect(lock.stats().unavailable).toBe(1);
    } finally {
      await group.redis(0).resume();
    }
  });

  it('a killed Redis fails acquire with StoreUnavailableError, and a lease whose Redis dies aborts its signal', async () => {
    const key = unique();
    const lock = createLock({ redis: client, key, ttlMs: 600, minValidityMs: 1, attemptTimeoutMs: 100, retry: { attempts: 1 } });
    const lease = await lock.acquire();
    await group.redis(0).kill();
    try {
      const reason = await new Promise<unknown>((resolve) => lease.signal.addEventListener('abort', () => resolve(lease.signal.reason)));
      expect(isLockLostError(reason)).toBe(true);
      const error = await lock.acquire().catch((e: unknown) => e);
      expect(isStoreUnavailableError(error)).toBe(true);
      expect(isLockHeldError(error)).toBe(false);
    } finally {
      await group.redis(0).restart();
    }
  });
});
