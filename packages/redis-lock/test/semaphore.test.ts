// The counting semaphore against a real redis-server.
import { randomUUID } from 'node:crypto';
import { sharedServers } from '@bulwark/servers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSemaphore, isInvalidOptionsError, isLockHeldError, isLockLostError, type LockHeldError, type RedisSemaphoreOptions } from '../src/index.js';

let redis: Redis;
const unique = (): string => `sem-${randomUUID()}`;
const opts = (key: string, extra: Partial<RedisSemaphoreOptions> = {}): RedisSemaphoreOptions => ({
  redis,
  key,
  limit: 3,
  ttlMs: 2_000,
  retry: { attempts: 1 },
  ...extra,
});

beforeAll(() => {
  redis = new Redis(sharedServers().redisUrls[2]!, { commandTimeout: 2_000 });
});
afterAll(() => {
  redis.disconnect();
});

describe('RedisSemaphore', () => {
  it('admits exactly `limit` holders, refuses the next with LockHeldError, and admits it after a release', async () => {
    const key = unique();
    const semaphore = createSemaphore(opts(key));
    const leases = [await semaphore.acquire(), await semaphore.acquire(), await semaphore.acquire()];
    expect(await redis.zcard(`semaphore:{${key}}`)).toBe(3);
    const error = await semaphore.acquire().catch((e: unknown) => e);
    expect(isLockHeldError(error)).toBe(true);
    expect((error as LockHeldError).retryAfterMs).toBeGreaterThan(0);
    expect(await leases[1]!.release()).toBe(true);
    const fourth = await semaphore.acquire();
    const tokens = [...leases, fourth].map((l) => l.fencingToken);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
    await Promise.all([leases[0]!.release(), leases[2]!.release(), fourth.release()]);
    expect(await redis.exists(`semaphore:{${key}}`)).toBe(0);
  });

  it('a holder that never releases frees its slot at its TTL, and can then neither extend nor release', async () => {
    const key = unique();
    const stale = await createSemaphore(opts(key, { limit: 1, ttlMs: 300, minValidityMs: 1, autoExtend: false })).acquire();
    const fresh = await createSemaphore(opts(key, { limit: 1, retry: { untilMs: 5_000, delayMs: 20, jitterMs: 10 } })).acquire();
    expect(fresh.fencingToken).toBeGreaterThan(stale.fencingToken);
    await expect(stale.extend()).rejects.toSatisfy(isLockLostError);
    expect(await stale.release()).toBe(false);
    expect(await redis.zcard(`semaphore:{${key}}`)).toBe(1);
    await fresh.release();
  });

  it('never has more than `limit` holders inside at once under contention', async () => {
    const key = unique();
    const semaphores = Array.from({ length: 3 }, () => createSemaphore(opts(key, { limit: 2, retry: { untilMs: 20_000, delayMs: 3, jitterMs: 5 } })));
    let inside = 0;
    let maxInside = 0;
    let done = 0;
    await Promise.all(
      semaphores.flatMap((semaphore) =>
        Array.from({ length: 3 }, async () => {
          for (let i = 0; i < 4; i++) {
            await semaphore.using(async () => {
              maxInside = Math.max(maxInside, ++inside);
              await new Promise((resolve) => setTimeout(resolve, 5));
              inside--;
              done++;
            });
          }
        }),
      ),
    );
    expect(done).toBe(36);
    expect(maxInside).toBeLessThanOrEqual(2);
    expect(maxInside).toBeGreaterThanOrEqual(1);
  });

  it('auto-extends a slot past its TTL', async () => {
    const key = unique();
    const lease = await createSemaphore(opts(key, { ttlMs: 1_000, minValidityMs: 1 })).acquire();
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    expect(lease.signal.aborted).toBe(false);
    expect(await redis.zcard(`semaphore:{${key}}`)).toBe(1);
    await lease.release();
  });

  it('rejects a bad limit at construction', () => {
    for (const limit of [0, 1.5, -1, Number.NaN]) {
      let caught: unknown;
      try {
        createSemaphore(opts('x', { limit }));
      } catch (error) {
        caught = error;
      }
      expect(isInvalidOptionsError(caught)).toBe(true);
      expect((caught as { option: string }).option).toBe('limit');
    }
  });
});
