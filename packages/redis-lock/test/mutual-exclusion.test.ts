// Mutual exclusion across 8 processes, checked by a fencing store, and the
// violation that fencing catches when a holder is frozen past its TTL.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { sharedServers } from '@bulwark/servers/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLock } from '../src/index.js';
import { fencedWrite, naiveWrite, storeKeys } from './fixtures/fencing-store.js';
import { startChild, type Child } from './fixtures/child-process.js';

const fixture = fileURLToPath(new URL('./fixtures/contender.ts', import.meta.url));
const { redisUrls } = sharedServers();
const lockUrl = redisUrls[0]!;
const storeUrl = redisUrls[1]!; // the fencing store lives on a separate Redis
let store: Redis;
let lockRedis: Redis;
const children = new Set<ChildProcess>();

const start = (config: object): Child => startChild(fixture, config, children);

beforeAll(() => {
  store = new Redis(storeUrl, { commandTimeout: 5_000 });
  lockRedis = new Redis(lockUrl, { commandTimeout: 5_000 });
});
afterEach(() => {
  for (const child of children) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
});
afterAll(() => {
  store.disconnect();
  lockRedis.disconnect();
});

describe('mutual exclusion across processes', () => {
  it('8 processes x 4 callers: every holder is alone and every fencing token is accepted', async () => {
    const key = `mx-${randomUUID()}`;
    const keys = storeKeys(key);
    const callers = 4;
    const rounds = 4;
    const procs = Array.from({ length: 8 }, (_, i) =>
      start({ mode: 'contend', id: `p${i}`, lockUrl, storeUrl, key, callers, rounds, ttlMs: 5_000 }),
    );
    const reports = await Promise.all(procs.map((p) => p.next()));
    for (const report of reports) expect(report).toMatchObject({ done: true, rejected: 0 });
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual(Array(8).fill(0));
    expect(await store.lrange(keys.rejected, 0, -1)).toEqual([]);
    expect(await store.lrange(keys.overlaps, 0, -1)).toEqual([]);
    const accepted = await store.lrange(keys.accepted, 0, -1);
    expect(accepted).toHaveLength(8 * callers * rounds);
    const tokens = accepted.map((line) => Number(line.split(' ')[1]));
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
    // All 8 processes really took part.
    expect(new Set(accepted.map((line) => line.split('/')[0])).size).toBe(8);
  });

  it('a holder frozen with SIGSTOP past its TTL: another holder acquires, and the late write is rejected by the fencing check', async () => {
    const key = `pause-${randomUUID()}`;
    const keys = storeKeys(key);
    const ttlMs = 800;
    const victim = start({ mode: 'victim', id: 'victim', lockUrl, storeUrl, key, callers: 1, rounds: 1, ttlMs });
    const checked = await victim.next();
    expect(checked).toMatchObject({ checked: true });
    const victimToken = checked.fencingToken as number;
    // Freeze the holder between its validity check and its write (a GC pause, a swapped-out process).
    process.kill(victim.process.pid!, 'SIGSTOP');
    victim.process.stdin!.end('go\n'); // delivered once it runs again

    // Meanwhile the lock expires in Redis and a second client takes it: two "holders" now exist.
    const other = createLock({ redis: lockRedis, key, ttlMs: 5_000, retry: { untilMs: 10_000, delayMs: 25, jitterMs: 0 } });
    const lease = await other.acquire();
    expect(lease.fencingToken).toBeGreaterThan(victimToken);
    expect(await fencedWrite(store, keys, lease.fencingToken, 'second')).toBe(true);
    await naiveWrite(store, keys, lease.fencingToken);

    process.kill(victim.process.pid!, 'SIGCONT');
    const wrote = await victim.next();
    expect(await victim.exited).toBe(0);

    // The violation fencing prevents: without the check, the stale holder overwrote the newer value ...
    expect(Number(await store.get(keys.naive))).toBe(victimToken);
    // ... with it, the late write was refused and the store kept the second holder's write.
    expect(wrote).toMatchObject({ wrote: true, accepted: false, fencingToken: victimToken });
    expect(await store.lrange(keys.rejected, 0, -1)).toEqual([`victim ${victimToken} <= ${lease.fencingToken}`]);
    expect(await store.lrange(keys.accepted, 0, -1)).toEqual([`second ${lease.fencingToken}`]);
    await lease.release();
  });
});
