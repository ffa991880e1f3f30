import { Redis } from 'ioredis';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedServers, startServerGroup, type PrivateServerGroup } from '../src/testing.js';

describe('shared servers from the global setup', () => {
  it('provides 5 independent Redis masters that each keep their own data', async () => {
    const { redisUrls } = sharedServers();
    expect(redisUrls).toHaveLength(5);
    const clients = redisUrls.map((url) => new Redis(url, { lazyConnect: true }));
    try {
      await Promise.all(clients.map((c) => c.connect()));
      await Promise.all(clients.map((c, i) => c.set('servers-test:who', `master-${i}`)));
      const values = await Promise.all(clients.map((c) => c.get('servers-test:who')));
      expect(values).toEqual(redisUrls.map((_, i) => `master-${i}`));
      for (const url of redisUrls) expect(new URL(url).hostname).toBe('127.0.0.1');
    } finally {
      clients.forEach((c) => c.disconnect());
    }
  });

  it('provides a 3-member etcd cluster that replicates writes', async () => {
    const { etcdEndpoints } = sharedServers();
    expect(etcdEndpoints).toHaveLength(3);
    const writer = new Etcd3({ hosts: etcdEndpoints[0]! });
    const reader = new Etcd3({ hosts: etcdEndpoints[2]! });
    try {
      await writer.put('servers-test/key').value('replicated');
      expect(await reader.get('servers-test/key').string()).toBe('replicated');
    } finally {
      writer.close();
      reader.close();
    }
  });
});

describe('fault injection on a private group', () => {
  let group: PrivateServerGroup;
  beforeAll(async () => {
    group = await startServerGroup({ redis: 2, etcd: true });
  });
  afterAll(async () => {
    await group.close();
  });

  it('kills a Redis master and restarts it on the same port', async () => {
    const url = group.redisUrls[0]!;
    const client = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => 50, enableOfflineQueue: false, lazyConnect: true });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.set('k', 'v');
      await group.redis(0).kill();
      await expect(client.get('k')).rejects.toThrow();
      await group.redis(0).restart();
      // Redis was started without persistence, so the key is gone after a crash.
      await expect.poll(() => client.ping().catch(() => 'down'), { timeout: 10_000 }).toBe('PONG');
      expect(await client.get('k')).toBeNull();
      // The other master was never touched.
      const other = new Redis(group.redisUrls[1]!);
      expect(await other.ping()).toBe('PONG');
      other.disconnect();
    } finally {
      client.disconnect();
    }
  });

  it('pauses a Redis master (SIGSTOP): commands hang until it resumes', async () => {
    const client = new Redis(group.redisUrls[1]!, { commandTimeout: 300 });
    client.on('error', () => undefined);
    try {
      await group.redis(1).pause();
      await expect(client.ping()).rejects.toThrow(/timed out/i);
      await group.redis(1).resume();
      await expect.poll(() => client.ping().catch(() => 'down'), { timeout: 10_000 }).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('keeps etcd available with one member killed, and the member rejoins after restart', async () => {
    const client = new Etcd3({ hosts: [...group.etcdEndpoints] });
    try {
      await client.put('fault/a').value('1');
      await group.etcd(0).kill();
      await client.put('fault/b').value('2');
      expect(await client.get('fault/b').string()).toBe('2');
      await group.etcd(0).restart();
      await group.etcdHealthy();
      const rejoined = new Etcd3({ hosts: group.etcdEndpoints[0]! });
      expect(await rejoined.get('fault/b').string()).toBe('2');
      rejoined.close();
    } finally {
      client.close();
    }
  });
});
