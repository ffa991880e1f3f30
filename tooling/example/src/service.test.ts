import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedServers } from '@bulwark/servers/testing';
import { CatalogService, FencedStore } from './service.js';

describe('the quick-start catalog service against real Redis', () => {
  let clients: Redis[];
  let originUp = true;
  let service: CatalogService;
  const prefix = `t${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(() => {
    clients = sharedServers().redisUrls.map((url) => new Redis(url, { commandTimeout: 2_000 }));
    service = new CatalogService({
      shards: new Map(clients.map((c, i) => [`shard-${i}`, c] as const)),
      requestsPerSecond: 3,
      openDurationMs: 60_000,
      origin: async (key) => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        if (!originUp) throw new Error('origin down');
        return `value of ${key}`;
      },
    });
  });
  afterAll(async () => {
    await service.close();
    clients.forEach((c) => c.disconnect());
  });

  it('serves concurrent misses with one origin call, then from the owning shard', async () => {
    const key = `${prefix}:apple`;
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => service.get(`client-${i}`, key)));
    expect(results.every((r) => r.status === 'loaded')).toBe(true);
    expect(service.originCalls).toBe(1);
    const hit = await service.get('client-0', key);
    expect(hit).toMatchObject({ status: 'hit', value: `value of ${key}`, shard: service.ring.lookup(key) });
    const owner = clients[Number(service.ring.lookup(key).slice('shard-'.length))]!;
    expect(await owner.get(`catalog:${key}`)).toBe(`value of ${key}`);
  });

  it('throttles a client past its rate with a Retry-After value', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await service.get('greedy', `${prefix}:k${i}`)).status);
    expect(statuses.slice(0, 3)).not.toContain('throttled');
    expect(statuses.slice(3)).toEqual(['throttled', 'throttled']);
  });

  it('opens the breaker when the origin fails and answers with a fallback without calling it', async () => {
    originUp = false;
    const before = service.originCalls;
    for (let i = 0; i < 6; i++) await service.get(`c${i}`, `${prefix}:down${i}`);
    expect(service.breaker.state).toBe('open');
    const callsWhileOpen = service.originCalls;
    const r = await service.get('c-late', `${prefix}:down-late`);
    expect(r.status).toBe('stale');
    expect(service.originCalls).toBe(callsWhileOpen);
    expect(callsWhileOpen).toBeGreaterThan(before);
    originUp = true;
  });

  it('lets one refresh worker hold the lock at a time, with increasing fencing tokens', async () => {
    const store = new FencedStore();
    const lock = service.refreshLock();
    const attempt = () =>
      lock
        .using(async (_signal, lease) => {
          await new Promise((resolve) => setTimeout(resolve, 30));
          return store.write(lease.fencingToken, 'refresh');
        })
        .catch(() => 'busy' as const);
    const [a, b] = await Promise.all([attempt(), attempt()]);
    expect([a, b].sort()).toEqual([true, 'busy'].sort());
    expect(await attempt()).toBe(true);
    expect(store.writes).toHaveLength(2);
    expect(store.writes[1]!.token).toBeGreaterThan(store.writes[0]!.token);
    expect(store.write(store.writes[0]!.token, 'stale')).toBe(false);
    await lock.close();
  });
});
