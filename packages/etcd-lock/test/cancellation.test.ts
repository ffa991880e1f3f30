import { sharedServers } from '@bulwark/servers/testing';
import type { Etcd3 } from 'etcd3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, mutex, type Lease, type Session } from '../src/index.js';
import { etcdClient, uniquePrefix } from './helpers.js';

let client: Etcd3;
let sessions: Session[] = [];

beforeAll(async () => {
  client = etcdClient(sharedServers().etcdEndpoints);
  sessions = await Promise.all(Array.from({ length: 6 }, () => createSession({ client, ttlSeconds: 10 })));
});

afterAll(async () => {
  await Promise.allSettled(sessions.map((s) => s.close()));
  client.close();
});

async function keyCount(prefix: string): Promise<number> {
  return client.getAll().prefix(`${prefix}/`).count();
}

async function untilKeys(prefix: string, count: number): Promise<void> {
  for (let i = 0; i < 400 && (await keyCount(prefix)) !== count; i++) await new Promise((r) => setTimeout(r, 5));
  expect(await keyCount(prefix)).toBe(count);
}

/** Queues one waiter per session (in order), each arriving after the previous one's key exists. */
async function queue(prefix: string, waiters: Session[], signals: AbortSignal[], alreadyQueued: number) {
  const pending: Promise<Lease>[] = [];
  for (const [i, s] of waiters.entries()) {
    const acquiring = mutex(s, prefix).acquire({ signal: signals[i]! });
    acquiring.catch(() => undefined);
    pending.push(acquiring);
    await untilKeys(prefix, alreadyQueued + i + 1);
  }
  return pending;
}

describe('cancelling a waiter', () => {
  it('removes its key, rejects with the signal reason, and does not block those behind it', async () => {
    const prefix = uniquePrefix('cancel');
    const [holderSession, ...rest] = sessions;
    const holder = await mutex(holderSession!, prefix).acquire();
    const controllers = rest.slice(0, 3).map(() => new AbortController());
    const [w1, w2, w3] = await queue(prefix, rest.slice(0, 3), controllers.map((c) => c.signal), 1);
    // Cancel the waiter in the middle: w3 watches w2's key and must move on to w1's.
    const reason = new Error('caller gave up');
    controllers[1]!.abort(reason);
    await expect(w2!).rejects.toBe(reason);
    await untilKeys(prefix, 3);
    await holder.release();
    const l1 = await w1!;
    await l1.release();
    const l3 = await w3!;
    expect(l3.fencingToken > l1.fencingToken).toBe(true);
    await l3.release();
    expect(await keyCount(prefix)).toBe(0);
  });

  it('cancelling the waiter right behind the holder hands over directly to the next', async () => {
    const prefix = uniquePrefix('cancel-first');
    const holder = await mutex(sessions[0]!, prefix).acquire();
    const controllers = [new AbortController(), new AbortController()];
    const [w1, w2] = await queue(prefix, sessions.slice(1, 3), controllers.map((c) => c.signal), 1);
    controllers[0]!.abort();
    await expect(w1!).rejects.toThrow();
    await holder.release();
    const l2 = await w2!;
    await l2.release();
  });

  it('property: whatever subset cancels, the others acquire in arrival order and the queue drains', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }), async (cancels) => {
        const prefix = uniquePrefix('prop');
        const holder = await mutex(sessions[0]!, prefix).acquire();
        const waiters = sessions.slice(1, 1 + cancels.length);
        const controllers = waiters.map(() => new AbortController());
        const pending = await queue(prefix, waiters, controllers.map((c) => c.signal), 1);
        cancels.forEach((cancel, i) => cancel && controllers[i]!.abort());
        await untilKeys(prefix, 1 + cancels.filter((c) => !c).length);
        await holder.release();
        const outcomes: string[] = [];
        const tokens: bigint[] = [holder.fencingToken];
        for (const p of pending) {
          outcomes.push(
            await p.then(
              async (lease) => {
                tokens.push(lease.fencingToken);
                await lease.release();
                return 'acquired';
              },
              () => 'cancelled',
            ),
          );
        }
        expect(outcomes).toEqual(cancels.map((c) => (c ? 'cancelled' : 'acquired')));
        expect(tokens).toEqual([...tokens].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
        expect(await keyCount(prefix)).toBe(0);
      }),
      { numRuns: 6 },
    );
  });

  it('an already-aborted signal rejects without touching etcd', async () => {
    const s = sessions[5]!;
    const before = s.stats().rpcs.txn;
    const controller = new AbortController();
    controller.abort(new Error('no'));
    await expect(mutex(s, uniquePrefix('pre')).acquire({ signal: controller.signal })).rejects.toThrow('no');
    expect(s.stats().rpcs.txn).toBe(before);
  });
});
