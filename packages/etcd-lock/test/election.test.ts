import { sharedServers } from '@bulwark/servers/testing';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, election, isInvalidOptionsError, isNotLeaderError, type LeaderInfo, type Session } from '../src/index.js';
import { etcdClient, uniquePrefix } from './helpers.js';

let client: Etcd3;
let sessions: Session[] = [];

beforeAll(async () => {
  client = etcdClient(sharedServers().etcdEndpoints);
  sessions = await Promise.all(Array.from({ length: 3 }, () => createSession({ client, ttlSeconds: 10 })));
});

afterAll(async () => {
  await Promise.allSettled(sessions.map((s) => s.close()));
  client.close();
});

/** Collects what an observer yields, and lets the test wait for the n-th value. */
function observer(prefix: string) {
  const controller = new AbortController();
  const seen: LeaderInfo[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const done = (async () => {
    for await (const leader of election(sessions[2]!, prefix).observe({ signal: controller.signal })) {
      seen.push(leader);
      for (const w of waiters.filter((w) => seen.length >= w.count)) w.resolve();
    }
  })();
  return {
    seen,
    done,
    stop: () => controller.abort(),
    until: (count: number) =>
      seen.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })),
  };
}

describe('election', () => {
  it('elects candidates in arrival order; proclaim and resign are seen by observers', async () => {
    const prefix = uniquePrefix('election');
    const [a, b] = [election(sessions[0]!, prefix), election(sessions[1]!, prefix)];
    expect(await a.leader()).toBeUndefined();
    const watch = observer(prefix);

    const leadA = await a.campaign('alpha');
    await watch.until(1);
    const campaigningB = b.campaign('beta');
    for (let i = 0; i < 200 && sessions[1]!.stats().rpcs.watch === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect((await b.leader())?.value).toBe('alpha');

    await leadA.proclaim('alpha-2');
    expect(leadA.value).toBe('alpha-2');
    await watch.until(2);
    expect((await a.leader())?.value).toBe('alpha-2');

    await leadA.resign();
    expect(leadA.signal.aborted).toBe(true);
    await expect(leadA.proclaim('too late')).rejects.toSatisfy(isNotLeaderError);
    const leadB = await campaigningB;
    expect(leadB.fencingToken > leadA.fencingToken).toBe(true);
    await watch.until(3);
    watch.stop();
    await watch.done;

    // Each distinct (leader, value) once, in order; a candidate waiting is not a change.
    expect(watch.seen.map((l) => l.value)).toEqual(['alpha', 'alpha-2', 'beta']);
    expect(watch.seen.map((l) => l.leaseId)).toEqual([sessions[0]!.leaseId, sessions[0]!.leaseId, sessions[1]!.leaseId]);
    expect(watch.seen[2]!.fencingToken).toBe(leadB.fencingToken);
    await leadB.resign();
    expect(await b.leader()).toBeUndefined();
  });

  it('a proclamation from a leader whose key was replaced is refused', async () => {
    const prefix = uniquePrefix('stale-leader');
    const lead = await election(sessions[0]!, prefix).campaign('one');
    // Someone deletes the key behind our back (an operator, or the lease expiring).
    await client.delete().key(lead.key);
    await expect(lead.proclaim('two')).rejects.toSatisfy(isNotLeaderError);
    await lead.resign();
  });

  it('rejects a non-string value and a bad prefix', async () => {
    expect(() => election(sessions[0]!, '')).toThrow(/prefix/);
    await expect(election(sessions[0]!, uniquePrefix('v')).campaign(42 as unknown as string)).rejects.toSatisfy(isInvalidOptionsError);
  });
});
