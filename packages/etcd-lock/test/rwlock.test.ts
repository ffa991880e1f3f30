import { sharedServers } from '@bulwark/servers/testing';
import type { Etcd3 } from 'etcd3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, isLockHeldError, rwlock, type Lease, type Session } from '../src/index.js';
import { etcdClient, uniquePrefix } from './helpers.js';

let client: Etcd3;
let sessions: Session[] = [];

beforeAll(async () => {
  client = etcdClient(sharedServers().etcdEndpoints);
  sessions = await Promise.all(Array.from({ length: 5 }, () => createSession({ client, ttlSeconds: 10 })));
});

afterAll(async () => {
  await Promise.allSettled(sessions.map((s) => s.close()));
  client.close();
});

async function untilKeys(prefix: string, count: number): Promise<void> {
  for (let i = 0; i < 400 && (await client.getAll().prefix(`${prefix}/`).count()) < count; i++) await new Promise((r) => setTimeout(r, 5));
  expect(await client.getAll().prefix(`${prefix}/`).count()).toBe(count);
}

/** Tracks whether a pending acquisition has resolved, without awaiting it. */
function track(pending: Promise<Lease>) {
  const state = { lease: undefined as Lease | undefined, pending };
  void pending.then((lease) => (state.lease = lease), () => undefined);
  return state;
}

/** Gives etcd and pending watches a moment, so "still waiting" is not just "slow" (it can only hide a bug, never fail a correct run). */
async function settle(): Promise<void> {
  await client.get('settle').exec();
  await new Promise((r) => setTimeout(r, 20));
}

describe('read-write lock', () => {
  it('readers share; a writer waits for earlier readers; later readers wait for the writer', async () => {
    const prefix = uniquePrefix('rw');
    const [r1, r2, w, r3] = sessions.map((s) => rwlock(s, prefix));
    const read1 = await r1!.read.acquire();
    const read2 = await r2!.read.acquire(); // shared: does not wait for read1
    const writing = track(w!.write.acquire());
    await untilKeys(prefix, 3);
    const reading3 = track(r3!.read.acquire());
    await untilKeys(prefix, 4);
    await settle();
    expect(writing.lease).toBeUndefined();
    expect(reading3.lease).toBeUndefined();

    // A reader cannot jump the queued writer.
    const error: unknown = await rwlock(sessions[4]!, prefix).read.tryAcquire().catch((e: unknown) => e);
    expect(isLockHeldError(error)).toBe(true);
    expect(isLockHeldError(error) && error.holder?.leaseId).toBe(sessions[2]!.leaseId);

    await read1.release();
    await settle();
    expect(writing.lease).toBeUndefined();
    await read2.release();
    const write = await writing.pending;
    expect(write.fencingToken > read2.fencingToken).toBe(true);
    expect(reading3.lease).toBeUndefined();
    await write.release();
    const read3 = await reading3.pending;
    expect(read3.fencingToken > write.fencingToken).toBe(true);
    await read3.release();
    expect(await client.getAll().prefix(`${prefix}/`).count()).toBe(0);
  });

  it('a cancelled writer lets the readers behind it in at once', async () => {
    const prefix = uniquePrefix('rw-cancel');
    const [r1, w, r2] = sessions.map((s) => rwlock(s, prefix));
    const read1 = await r1!.read.acquire();
    const controller = new AbortController();
    const writing = w!.write.acquire({ signal: controller.signal });
    writing.catch(() => undefined);
    await untilKeys(prefix, 2);
    const reading2 = r2!.read.acquire();
    await untilKeys(prefix, 3);
    controller.abort();
    await expect(writing).rejects.toThrow();
    // read1 is still held: read2 gets in because only the writer stood before it.
    const read2 = await reading2;
    expect(read1.released).toBe(false);
    await Promise.all([read1.release(), read2.release()]);
  });

  it('a writer excludes everyone, in arrival order', async () => {
    const prefix = uniquePrefix('rw-write');
    const [a, b, c] = sessions.map((s) => rwlock(s, prefix));
    const first = await a!.write.acquire();
    const second = track(b!.write.acquire());
    await untilKeys(prefix, 2);
    const reader = track(c!.read.acquire());
    await untilKeys(prefix, 3);
    await expect(c!.write.tryAcquire()).rejects.toSatisfy(isLockHeldError);
    await first.release();
    const secondLease = await second.pending;
    await settle();
    expect(reader.lease).toBeUndefined();
    await secondLease.release();
    await (await reader.pending).release();
  });

  it('property: grants follow the model (reader: no earlier writer left; writer: first in line)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('r', 'w'), { minLength: 2, maxLength: 5 }), async (kinds) => {
        const prefix = uniquePrefix('rw-prop');
        const pending: ReturnType<typeof track>[] = [];
        for (const [i, kind] of kinds.entries()) {
          const lock = rwlock(sessions[i]!, prefix);
          pending.push(track(kind === 'r' ? lock.read.acquire() : lock.write.acquire()));
          await untilKeys(prefix, i + 1);
        }
        let remaining = kinds.map((_, i) => i);
        while (remaining.length > 0) {
          const granted = remaining.filter((i) =>
            kinds[i] === 'r' ? !remaining.some((j) => j < i && kinds[j] === 'w') : remaining[0] === i,
          );
          const leases = await Promise.all(granted.map((i) => pending[i]!.pending));
          await settle();
          expect(remaining.filter((i) => pending[i]!.lease !== undefined)).toEqual(granted);
          await Promise.all(leases.map((lease) => lease.release()));
          remaining = remaining.filter((i) => !granted.includes(i));
        }
      }),
      { numRuns: 6 },
    );
  });
});
