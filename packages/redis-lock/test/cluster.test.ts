// redis-lock through an ioredis Cluster client (a one-node cluster owning all 16384 slots).
import { randomUUID } from 'node:crypto';
import { startRedisServers, type RedisServer } from '@bulwark/servers';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLock, isInvalidOptionsError, isLockHeldError, keySlot, lockKeys } from '../src/index.js';

let server: RedisServer;
let cluster: Cluster;

beforeAll(async () => {
  // A one-node cluster owning every slot; announce the loopback address so CLUSTER SLOTS names it.
  [server] = (await startRedisServers(1, { extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1'] })) as [RedisServer];
  const admin = new Redis(server.url);
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  await vi.waitFor(
    async () => {
      if (!/cluster_state:ok/.test(String(await admin.call('CLUSTER', 'INFO')))) throw new Error('cluster not ready yet');
    },
    { timeout: 10_000, interval: 50 },
  );
  admin.disconnect();
  cluster = new Cluster([{ host: server.host, port: server.port }], { redisOptions: { commandTimeout: 2_000 } });
  await new Promise((resolve) => cluster.once('ready', resolve));
});
afterAll(async () => {
  cluster.disconnect();
  await server.destroy();
});

describe('Redis Cluster', () => {
  it('acquires, contends, extends and releases through a Cluster client (both keys in one slot)', async () => {
    const key = `cluster-${randomUUID()}`;
    const keys = lockKeys(key);
    expect(keySlot(keys.lock)).toBe(keySlot(keys.fence));
    const lock = createLock({ redis: cluster, key, ttlMs: 2_000, retry: { attempts: 1 } });
    const first = await lock.acquire();
    await expect(lock.acquire()).rejects.toSatisfy(isLockHeldError);
    await first.extend();
    expect(await first.release()).toBe(true);
    const second = await lock.acquire();
    expect(second.fencingToken).toBe(first.fencingToken + 1);
    await second.release();
  });

  it('a key that would split the lock across slots is refused before anything is sent', () => {
    const evalsha = vi.spyOn(cluster, 'evalsha');
    let caught: unknown;
    try {
      createLock({ redis: cluster, key: '}split', ttlMs: 1_000 });
    } catch (error) {
      caught = error;
    }
    expect(isInvalidOptionsError(caught)).toBe(true);
    expect(evalsha).not.toHaveBeenCalled();
    evalsha.mockRestore();
  });
});
