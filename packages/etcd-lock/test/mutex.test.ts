import { sharedServers } from '@bulwark/servers/testing';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, isLockHeldError, isSessionExpiredError, mutex, type Session } from '../src/index.js';
import { etcdClient, uniquePrefix } from './helpers.js';

let client: Etcd3;
const sessions: Session[] = [];

async function session(ttlSeconds = 5): Promise<Session> {
  const s = await createSession({ client, ttlSeconds });
  sessions.push(s);
  return s;
}

beforeAll(() => {
  client = etcdClient(sharedServers().etcdEndpoints);
});

afterAll(async () => {
  await Promise.allSettled(sessions.map((s) => s.close()));
  client.close();
});

describe('mutex on a real etcd', () => {
  it('acquires a free lock in one Txn and releases with one delete', async () => {
    const s = await session();
    const m = mutex(s, uniquePrefix('basic'));
    const before = s.stats().rpcs;
    const lease = await m.acquire();
    expect(lease.key).toMatch(new RegExp(`^${m.prefix}/${s.leaseId}-[0-9a-f]+$`));
    expect(typeof lease.fencingToken).toBe('bigint');
    expect((await m.holder())?.fencingToken).toBe(lease.fencingToken);
    await lease.release();
    expect(lease.signal.aborted).toBe(true);
    expect(await m.holder()).toBeUndefined();
    const after = s.stats().rpcs;
    expect(after.txn - before.txn).toBe(1);
    expect(after.deleteRange - before.deleteRange).toBe(1);
    expect(after.watch - before.watch).toBe(0);
  });

  it('gives every acquisition a key of its own; a stale key of ours created late is deleted in the next Txn', async () => {
    const s = await session();
    const prefix = uniquePrefix('stale');
    const m = mutex(s, prefix);
    const first = await m.acquire();
    await first.release();
    // As if an earlier acquisition's Txn had failed unanswered and committed after its removal.
    const stale = `${prefix}/${s.leaseId}-ff`;
    await client.put(stale).value('late').lease(BigInt(`0x${s.leaseId}`).toString()).exec();
    s.noteUnsettledKey(`${prefix}/${s.leaseId}`, stale);
    const before = s.stats().rpcs;
    const lease = await m.acquire();
    expect(lease.key).not.toBe(first.key);
    expect(lease.fencingToken).toBeGreaterThan(first.fencingToken);
    expect(await client.get(stale).string()).toBeNull();
    expect((await m.holder())?.key).toBe(lease.key);
    expect(s.stats().rpcs.txn - before.txn).toBe(1);
    expect(s.stats().rpcs.watch - before.watch).toBe(0);
    await lease.release();
    expect(await client.getAll().prefix(`${prefix}/`).keys()).toEqual([]);
  });

  it('tryAcquire fails at once with the holder, and leaves no key behind', async () => {
    const [a, b] = [await session(), await session()];
    const prefix = uniquePrefix('try');
    const held = await mutex(a, prefix).acquire();
    const error: unknown = await mutex(b, prefix).tryAcquire().catch((e: unknown) => e);
    expect(isLockHeldError(error)).toBe(true);
    if (!isLockHeldError(error)) return;
    expect(error.holder?.fencingToken).toBe(held.fencingToken);
    expect(error.holder?.leaseId).toBe(a.leaseId);
    expect(error.holder?.holderId).toBe(a.holderId);
    expect(await client.getAll().prefix(`${prefix}/`).count()).toBe(1);
    await held.release();
    const lease = await mutex(b, prefix).tryAcquire();
    expect(lease.fencingToken > held.fencingToken).toBe(true);
    await lease.release();
  });

  it('hands the lock to waiters in arrival order with increasing tokens', async () => {
    const prefix = uniquePrefix('fifo');
    const all = await Promise.all(Array.from({ length: 5 }, () => session()));
    const first = await mutex(all[0]!, prefix).acquire();
    const order: number[] = [];
    const waiting: Promise<bigint>[] = [];
    for (let i = 1; i < all.length; i++) {
      const m = mutex(all[i]!, prefix);
      waiting.push(
        m.acquire().then(async (lease) => {
          order.push(i);
          await lease.release();
          return lease.fencingToken;
        }),
      );
      // Arrival order: wait until this waiter's key exists before the next one arrives.
      while ((await client.getAll().prefix(`${prefix}/`).count()) < i + 1) await new Promise((r) => setTimeout(r, 5));
    }
    await first.release();
    const tokens = await Promise.all(waiting);
    expect(order).toEqual([1, 2, 3, 4]);
    expect([...tokens].sort((x, y) => (x < y ? -1 : 1))).toEqual(tokens);
    expect(tokens[0]! > first.fencingToken).toBe(true);
  });

  it('wakes only the next waiter on release (no thundering herd)', async () => {
    const prefix = uniquePrefix('herd');
    const all = await Promise.all(Array.from({ length: 6 }, () => session()));
    const holder = await mutex(all[0]!, prefix).acquire();
    const waiters = all.slice(1).map((s) => mutex(s, prefix).acquire());
    while ((await client.getAll().prefix(`${prefix}/`).count()) < all.length) await new Promise((r) => setTimeout(r, 5));
    // Let every waiter reach its watch.
    while (all.slice(1).some((s) => s.stats().rpcs.watch === 0)) await new Promise((r) => setTimeout(r, 5));
    const rpcsBefore = all.slice(1).map((s) => s.stats().rpcs.txn + s.stats().rpcs.watch);
    await holder.release();
    // Waiters arrived concurrently, so whichever has the lowest create revision is next.
    const [nextIndex, next] = await Promise.race(waiters.map((w, i) => w.then((lease) => [i, lease] as const)));
    // The successor knew it was next (its predecessor was the only key below it), so it
    // took over on the deletion event alone; nobody else was woken or issued anything.
    expect(all.slice(1).map((s, i) => s.stats().rpcs.txn + s.stats().rpcs.watch - rpcsBefore[i]!)).toEqual([0, 0, 0, 0, 0]);
    const tokens = [next.fencingToken];
    await next.release();
    const rest = waiters.filter((_, i) => i !== nextIndex);
    while (rest.length > 0) {
      const [i, lease] = await Promise.race(rest.map((w, j) => w.then((l) => [j, l] as const)));
      tokens.push(lease.fencingToken);
      await lease.release();
      void rest.splice(i, 1);
    }
    expect(tokens).toEqual([...tokens].sort((x, y) => (x < y ? -1 : 1)));
  });

  it('queues callers of one session locally', async () => {
    const s = await session();
    const m = mutex(s, uniquePrefix('local'));
    const a = await m.acquire();
    await expect(m.tryAcquire()).rejects.toSatisfy(isLockHeldError);
    let bHeld = false;
    const b = m.acquire().then((lease) => {
      bHeld = true;
      return lease;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(bHeld).toBe(false);
    await a.release();
    const lease = await b;
    expect(lease.fencingToken > a.fencingToken).toBe(true);
    await lease.release();
  });

  it('using() releases after the callback, also when it throws', async () => {
    const s = await session();
    const m = mutex(s, uniquePrefix('using'));
    await expect(m.using(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await m.holder()).toBeUndefined();
    const token = await m.using((lease) => lease.fencingToken);
    expect(typeof token).toBe('bigint');
    expect(await m.holder()).toBeUndefined();
  });

  it('close() revokes the lease, freeing the lock for the next waiter', async () => {
    const prefix = uniquePrefix('close');
    const a = await createSession({ client, ttlSeconds: 30 });
    const b = await session();
    const held = await mutex(a, prefix).acquire();
    const waiting = mutex(b, prefix).acquire();
    await a.close();
    expect(held.signal.aborted).toBe(true);
    expect(a.state).toBe('closed');
    const lease = await waiting;
    expect(lease.fencingToken > held.fencingToken).toBe(true);
    await lease.release();
  });

  it('a lease revoked behind our back is noticed at the next keep-alive, not when the TTL runs out', async () => {
    const prefix = uniquePrefix('revoked');
    const victim = await createSession({ client, ttlSeconds: 60, keepAliveIntervalMs: 100 });
    sessions.push(victim);
    const renewed = new Promise<void>((resolve) => victim.on('keepAlive', () => resolve()));
    const held = await mutex(victim, prefix).acquire();
    await renewed;
    const next = mutex(await session(), prefix).acquire();
    const lost = new Promise<unknown>((resolve) => victim.on('lost', resolve));
    await client.leaseClient.leaseRevoke({ ID: BigInt(`0x${victim.leaseId}`).toString() });
    const error = await lost;
    expect(isSessionExpiredError(error)).toBe(true);
    // Detected from etcd's answer to a renewal (TTL 0), not from the 60 s running out.
    expect(String((error as Error).cause)).toMatch(/no longer knows the lease/);
    expect(held.signal.aborted).toBe(true);
    expect(held.signal.reason).toBe(error);
    const lease = await next; // etcd deleted the revoked lease's key
    expect(lease.fencingToken > held.fencingToken).toBe(true);
    await lease.release();
  });
});
