// `pnpm example`: starts three real Redis servers on loopback, runs the catalog
// service through a scripted scenario and prints what each package did.
import { Redis } from 'ioredis';
import { startRedisServers, type RedisServer } from '@bulwark/servers';
import { CatalogService, FencedStore } from './service.js';

const log = (line = ''): void => console.log(line);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  log('Starting 3 redis-server processes on free loopback ports…');
  const servers: RedisServer[] = await startRedisServers(3);
  const clients = servers.map((s) => new Redis(s.url, { commandTimeout: 2_000, maxRetriesPerRequest: 1 }));
  const shards = new Map(clients.map((c, i) => [`shard-${i}`, c] as const));
  let originUp = true;
  const service = new CatalogService({
    shards,
    requestsPerSecond: 5,
    openDurationMs: 800,
    origin: async (key) => {
      await sleep(20);
      if (!originUp) throw new Error('origin: 503 Service Unavailable');
      return `product "${key}" (loaded at ${new Date().toISOString().slice(11, 23)})`;
    },
  });
  service.breaker.on('stateChange', ({ from, to, reason }) => log(`    [circuit-breaker] ${from} → ${to} (${reason})`));

  try {
    log('\n1. @bulwark/hashring places keys on shards, the same way in every process');
    for (const key of ['apple', 'banana', 'cherry', 'durian', 'elderberry']) {
      log(`    ${key.padEnd(11)} → ${service.ring.lookup(key)}   replicas: ${service.ring.replicas(key, 2).join(', ')}`);
    }

    log('\n2. Ten concurrent misses on one key: single-flight + @bulwark/worker-pool limiter → one origin call');
    const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => service.get(`client-${i}`, 'apple')));
    log(`    statuses: ${burst.map((r) => r.status).join(' ')}`);
    log(`    origin calls: ${service.originCalls}`);
    const again = await service.get('client-0', 'apple');
    log(`    next read: ${again.status} from ${'shard' in again ? again.shard : '?'}`);

    log('\n3. @bulwark/token-bucket admits 5 requests per second per client; the rest get Retry-After');
    const greedy = [];
    for (let i = 0; i < 8; i++) greedy.push(await service.get('greedy-client', 'banana'));
    log(`    ${greedy.map((r) => (r.status === 'throttled' ? `throttled(Retry-After: ${r.retryAfterSeconds})` : r.status)).join(', ')}`);

    log('\n4. The origin fails: @bulwark/circuit-breaker opens and callers get a fallback at once');
    originUp = false;
    for (const key of ['k1', 'k2', 'k3', 'k4', 'k5', 'k6']) {
      const r = await service.get(`c-${key}`, key);
      log(`    get ${key}: ${r.status}${r.status === 'stale' ? ` (${r.reason})` : ''}`);
    }
    log(`    breaker state: ${service.breaker.state}`);

    log('\n5. The origin recovers; after the open duration one probe closes the breaker');
    originUp = true;
    await sleep(900);
    log(`    breaker state after 900 ms: ${service.breaker.state}`);
    const probe = await service.get('c-probe', 'k7');
    log(`    probe get k7: ${probe.status}; breaker state: ${service.breaker.state}`);

    log('\n6. @bulwark/redis-lock: two workers race for the singleton refresh job; fencing tokens guard the store');
    const store = new FencedStore();
    const lock = service.refreshLock();
    const worker = async (name: string): Promise<string> => {
      try {
        return await lock.using(async (_signal, lease) => {
          const accepted = store.write(lease.fencingToken, `refreshed by ${name}`);
          await sleep(50);
          return `${name} held the lock with fencing token ${lease.fencingToken} (store ${accepted ? 'accepted' : 'rejected'} the write)`;
        });
      } catch (error) {
        return `${name}: ${(error as { code?: string }).code ?? String(error)} — someone else is refreshing`;
      }
    };
    for (const line of await Promise.all([worker('worker-a'), worker('worker-b')])) log(`    ${line}`);
    log(`    ${await worker('worker-c')}`);
    log(`    a stale holder writing with token 0 now: ${store.write(0, 'late write') ? 'accepted' : 'rejected by fencing'}`);
    await lock.close();
  } finally {
    await service.close();
    clients.forEach((c) => c.disconnect());
    await Promise.all(servers.map((s) => s.destroy()));
  }
  log('\nDone: every Redis process stopped and its temp dir removed.');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
