// The fencing store and the child launcher are shared with @bulwark/redis-lock's tests (one copy, in its test/fixtures).
// Redlock mutual exclusion across 8 processes over 5 masters, checked by a fencing
// store on a separate Redis, and the violation fencing catches when a holder is frozen.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { sharedServers, startServerGroup, type PrivateServerGroup } from '@bulwark/servers/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedlock } from '../src/index.js';
import { fencedWrite, naiveWrite, storeKeys } from '../../redis-lock/test/fixtures/fencing-store.js';
import { startChild, type Child } from '../../redis-lock/test/fixtures/child-process.js';

const fixture = fileURLToPath(new URL('./fixtures/contender.ts', import.meta.url));
const masterUrls = sharedServers().redisUrls.slice(0, 5);
let storeGroup: PrivateServerGroup;
let storeUrl: string;
let store: Redis;
let masters: Redis[];
const children = new Set<ChildProcess>();

const start = (config: object): Child => startChild(fixture, config, children);

beforeAll(async () => {
  storeGroup = await startServerGroup({ redis: 1 }); // the fencing store: not one of the masters
  storeUrl = storeGroup.redisUrls[0]!;
  store = new Redis(storeUrl, { commandTimeout: 5_000 });
  masters = masterUrls.map((url) => new Redis(url, { commandTimeout: 5_000 }));
});
afterEach(() => {
  for (const child of children) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
});
afterAll(async () => {
  store.disconnect();
  for (const m of masters) m.disconnect();
  await storeGroup.close();
});

describe('Redlock mutual exclusion across processes', () => {
  it('8 processes x 3 callers over 5 masters: every holder is alone and every fencing token is accepted', async () => {
    const key = `rl-mx-${randomUUID()}`;
    const keys = storeKeys(key);
    const callers = 3;
    const rounds = 3;
    const procs = Array.from({ length: 8 }, (_, i) =>
      start({ mode: 'contend', id: `p${i}`, masterUrls, storeUrl, key, callers, rounds, ttlMs: 5_000 }),
    );
    const reports = await Promise.all(procs.map((p) => p.next()));
    for (const report of reports) expect(report).toMatchObject({ done: true, rejected: 0 });
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual(Array(8).fill(0));
    expect(await store.lrange(keys.rejected, 0, -1)).toEqual([]);
    expect(await store.lrange(keys.overlaps, 0, -1)).toEqual([]);
    expect(await store.lrange(keys.accepted, 0, -1)).toHaveLength(8 * callers * rounds);
  });

  it('a holder frozen with SIGSTOP past its TTL: another client gets a quorum, and the late write is rejected by the fencing check', async () => {
    const key = `rl-pause-${randomUUID()}`;
    const keys = storeKeys(key);
    const victim = start({ mode: 'victim', id: 'victim', masterUrls, storeUrl, key, callers: 1, rounds: 1, ttlMs: 800 });
    const checked = await victim.next();
    expect(checked).toMatchObject({ checked: true });
    const victimToken = checked.fencingToken as number;
    process.kill(victim.process.pid!, 'SIGSTOP');
    victim.process.stdin!.end('go\n');

    const other = createRedlock({ clients: masters, key, ttlMs: 5_000, retry: { untilMs: 10_000, delayMs: 25, jitterMs: 0 } });
    const lease = await other.acquire();
    expect(lease.fencingToken).toBeGreaterThan(victimToken);
    expect(await fencedWrite(store, keys, lease.fencingToken, 'second')).toBe(true);
    await naiveWrite(store, keys, lease.fencingToken);

    process.kill(victim.process.pid!, 'SIGCONT');
    const wrote = await victim.next();
    expect(await victim.exited).toBe(0);
    expect(Number(await store.get(keys.naive))).toBe(victimToken); // unfenced: the stale write won
    expect(wrote).toMatchObject({ wrote: true, accepted: false, fencingToken: victimToken });
    expect(await store.lrange(keys.rejected, 0, -1)).toEqual([`victim ${victimToken} <= ${lease.fencingToken}`]);
    await lease.release();
  });
});
