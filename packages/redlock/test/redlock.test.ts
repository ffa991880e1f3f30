// Redlock against real, independent redis-server masters.
import { randomUUID } from 'node:crypto';
import { sharedServers, startServerGroup, type PrivateServerGroup } from '@bulwark/servers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createRedlock,
  isInvalidOptionsError,
  isLockHeldError,
  isLockLostError,
  isQuorumUnavailableError,
  type Lease,
  type QuorumUnavailableError,
  type RedlockOptions,
} from '../src/index.js';

const unique = (): string => `t-${randomUUID()}`;
const connect = (url: string): Redis => {
  const client = new Redis(url, { commandTimeout: 1_000, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // reconnect noise while a master is down
  return client;
};

describe('Redlock on 5 healthy masters', () => {
  let clients: Redis[];
  const opts = (key: string, extra: Partial<RedlockOptions> = {}): RedlockOptions => ({
    clients,
    key,
    ttlMs: 2_000,
    retry: { attempts: 1 },
    ...extra,
  });
  beforeAll(() => {
    clients = sharedServers().redisUrls.slice(0, 5).map(connect);
  });
  afterAll(() => {
    for (const c of clients) c.disconnect();
  });

  it('takes the lock on every master, refuses a second owner with LockHeldError, and releases everywhere', async () => {
    const key = unique();
    const lock = createRedlock(opts(key));
    expect(lock.quorum).toBe(3);
    const lease = await lock.acquire();
    // acquire() and release() resolve once a quorum has answered; the other masters' replies
    // (e.g. after a NOSCRIPT → EVAL fallback on a master that had not cached the script) may
    // still be on their way, so the every-master checks wait for them.
    await vi.waitFor(async () => {
      const values = await Promise.all(clients.map((c) => c.get(`lock:{${key}}`)));
      expect(new Set(values).size).toBe(1);
      expect(values[0]).not.toBeNull();
    });
    const error = await createRedlock(opts(key)).acquire().catch((e: unknown) => e);
    expect(isLockHeldError(error)).toBe(true);
    expect(isQuorumUnavailableError(error)).toBe(false);
    expect(await lease.release()).toBe(true);
    await vi.waitFor(async () => {
      expect(await Promise.all(clients.map((c) => c.exists(`lock:{${key}}`)))).toEqual([0, 0, 0, 0, 0]);
    });
  });

  it('fencing tokens increase and the counters of all masters stay in step', async () => {
    const key = unique();
    const lock = createRedlock(opts(key));
    // Put a majority of masters ahead, as if they had handed out more tokens (or restarted with a
    // later seed). Any quorum contains one of them, so the next token absorbs the jump.
    const before = await lock.using((_signal, lease) => lease.fencingToken);
    await Promise.all([0, 1, 2].map((i) => clients[i]!.incrby(`lock:{${key}}:fence`, 1_000)));
    const tokens: number[] = [];
    for (let i = 0; i < 10; i++) {
      const lease = await lock.acquire();
      tokens.push(lease.fencingToken);
      await lease.release();
    }
    expect(tokens[0]).toBeGreaterThan(before + 1_000);
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
    // Release raised the others to the token: every master ends on the last token.
    // (release() resolves on a quorum: wait for the last masters' answers.)
    await vi.waitFor(async () => {
      const counters = await Promise.all(clients.map((c) => c.get(`lock:{${key}}:fence`)));
      expect(new Set(counters)).toEqual(new Set([String(tokens.at(-1))]));
    });
  });

  it('after a failed attempt our partial locks are released on every master', async () => {
    const key = unique();
    // Someone else holds 3 of 5 masters: we can only get 2, which is not a quorum.
    await Promise.all(clients.slice(0, 3).map((c) => c.set(`lock:{${key}}`, 'other', 'PX', 10_000)));
    const error = await createRedlock(opts(key)).acquire().catch((e: unknown) => e);
    expect(isLockHeldError(error)).toBe(true);
    await vi.waitFor(async () => {
      expect(await Promise.all(clients.map((c) => c.get(`lock:{${key}}`)))).toEqual(['other', 'other', 'other', null, null]);
    });
  });

  it('validity counts from the attempt that succeeded, not from the first one (node-redlock 5-beta returns expired locks here)', async () => {
    const key = unique();
    await Promise.all(clients.map((c) => c.set(`lock:{${key}}`, 'other', 'PX', 150)));
    let offset = 0;
    const clock = { now: () => performance.now() + offset };
    // Every retry decision "takes" 10 s on the lock's clock: acquire() as a whole lasts far longer than the TTL.
    const random = (): number => {
      offset += 10_000;
      return 0;
    };
    const lock = createRedlock(opts(key, { clock, random, retry: { attempts: 100, delayMs: 20, jitterMs: 0 } }));
    const started = clock.now();
    const lease = await lock.acquire();
    expect(clock.now() - started).toBeGreaterThan(2_000); // longer than ttlMs
    expect(lease.remainingMs()).toBeGreaterThan(1_000);
    expect(lease.signal.aborted).toBe(false);
    await lease.release();
  });

  it('wall-clock jumps of ±30 s change nothing', async () => {
    const lock = createRedlock(opts(unique(), { ttlMs: 5_000 }));
    const realNow = Date.now.bind(Date);
    const spy = vi.spyOn(Date, 'now');
    try {
      spy.mockImplementation(() => realNow() - 30_000);
      const lease = await lock.acquire();
      spy.mockImplementation(() => realNow() + 30_000);
      expect(lease.remainingMs()).toBeGreaterThan(4_000);
      await lease.extend();
      expect(lease.remainingMs()).toBeGreaterThan(4_000);
      await lease.release();
    } finally {
      spy.mockRestore();
    }
  });

  it('using() auto-extends past the TTL and releases', async () => {
    const key = unique();
    const lock = createRedlock(opts(key, { ttlMs: 1_000, minValidityMs: 1 }));
    const extensions = await lock.using(async (signal, lease) => {
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      expect(signal.aborted).toBe(false);
      return lease.extensions;
    });
    expect(extensions).toBeGreaterThanOrEqual(1);
    await vi.waitFor(async () => {
      expect(await Promise.all(clients.map((c) => c.exists(`lock:{${key}}`)))).toEqual([0, 0, 0, 0, 0]);
    });
  });

  it('rejects bad options at construction', () => {
    for (const bad of [{ clients: [] }, { clients: [clients[0]!, clients[0]!] }, { ttlMs: -1 }] as Partial<RedlockOptions>[]) {
      expect(() => createRedlock({ ...opts('x'), ...bad })).toThrow(/must be/);
    }
    let caught: unknown;
    try {
      createRedlock({ ...opts('x'), clients: [{} as Redis] });
    } catch (error) {
      caught = error;
    }
    expect(isInvalidOptionsError(caught)).toBe(true);
  });
});

describe('Redlock under master failures (private group of 5)', () => {
  let group: PrivateServerGroup;
  let clients: Redis[];
  const opts = (key: string, extra: Partial<RedlockOptions> = {}): RedlockOptions => ({
    clients,
    key,
    ttlMs: 3_000,
    attemptTimeoutMs: 300,
    retry: { attempts: 2, delayMs: 20, jitterMs: 10 },
    ...extra,
  });
  beforeAll(async () => {
    group = await startServerGroup({ redis: 5 });
    clients = group.redisUrls.map(connect);
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await group.close();
  });

  it('one master killed and one paused during a contended run: locks are still granted, exclusively, with increasing tokens', async () => {
    const key = unique();
    const locks = Array.from({ length: 3 }, () =>
      createRedlock(opts(key, { retry: { untilMs: 20_000, delayMs: 5, jitterMs: 15 } })),
    );
    let inside = 0;
    let overlaps = 0;
    let lastToken = 0;
    const rejected: number[] = [];
    let granted = 0;
    const critical = async (_signal: AbortSignal, lease: Lease): Promise<void> => {
      if (++inside > 1) overlaps++;
      // The fencing check of the protected resource.
      if (lease.fencingToken > lastToken) lastToken = lease.fencingToken;
      else rejected.push(lease.fencingToken);
      granted++;
      await new Promise((resolve) => setTimeout(resolve, 2));
      inside--;
    };
    const run = Promise.all(
      locks.flatMap((lock) =>
        Array.from({ length: 3 }, async () => {
          for (let i = 0; i < 8; i++) await lock.using(critical);
        }),
      ),
    );
    await vi.waitFor(() => expect(granted).toBeGreaterThanOrEqual(10), { timeout: 20_000 });
    await group.redis(0).kill();
    await group.redis(1).pause();
    const grantedAtFault = granted;
    try {
      await run;
    } finally {
      await group.redis(1).resume();
      await group.redis(0).restart();
    }
    expect(granted).toBe(3 * 3 * 8);
    expect(granted).toBeGreaterThan(grantedAtFault);
    expect(overlaps).toBe(0);
    expect(rejected).toEqual([]);
  });

  it('3 of 5 masters down: QuorumUnavailableError (not LockHeldError), not a hang', async () => {
    const lock = createRedlock(opts(unique()));
    await group.redis(2).kill();
    await group.redis(3).kill();
    await group.redis(4).pause();
    try {
      const error = await lock.acquire().catch((e: unknown) => e);
      expect(isQuorumUnavailableError(error)).toBe(true);
      expect(isLockHeldError(error)).toBe(false);
      expect(error as QuorumUnavailableError).toMatchObject({ quorum: 3, masters: 5, attempts: 2 });
      expect((error as QuorumUnavailableError).answered).toBeLessThanOrEqual(2);
    } finally {
      await group.redis(4).resume();
      await group.redis(2).restart();
      await group.redis(3).restart();
    }
  });

  it('a lease whose quorum goes away aborts its signal by its predicted expiry', async () => {
    const lock = createRedlock(opts(unique(), { ttlMs: 800, minValidityMs: 1 }));
    const lease = await lock.acquire();
    await group.redis(0).pause();
    await group.redis(1).pause();
    await group.redis(2).pause();
    try {
      const reason = await new Promise<unknown>((resolve) => lease.signal.addEventListener('abort', () => resolve(lease.signal.reason)));
      expect(isLockLostError(reason)).toBe(true);
      expect(lease.remainingMs()).toBeLessThanOrEqual(0);
    } finally {
      await Promise.all([0, 1, 2].map((i) => group.redis(i).resume()));
    }
  });

  it('masters restarted empty do not make fencing tokens go backwards', async () => {
    const key = unique();
    const lock = createRedlock(opts(key, { attemptTimeoutMs: 1_000, retry: { attempts: 10, delayMs: 50, jitterMs: 0 } }));
    const before = await lock.acquire();
    await before.release();
    await group.redis(0).kill();
    await group.redis(1).kill();
    await group.redis(0).restart();
    await group.redis(1).restart();
    const after = await lock.acquire();
    expect(after.fencingToken).toBeGreaterThan(before.fencingToken);
    await after.release();
  });
});
