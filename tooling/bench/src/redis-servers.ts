// Redis servers for a suite: started in the suite's setup on free loopback ports,
// one ioredis client each, stopped in its teardown.
import { startRedisServers, type RedisServer } from '@bulwark/servers';
import { Redis, type RedisOptions } from 'ioredis';

export interface BenchRedis {
  /** For the suite's `setup` and `teardown`. */
  setup: () => Promise<void>;
  teardown: () => Promise<void>;
  /** The client of server `index` (default 0); throws before setup. */
  client: (index?: number) => Redis;
  /** One client per server, in order; throws before setup. */
  clients: () => Redis[];
}

/**
 * `count` redis-server processes for a suite. The same clients are handed to every
 * library a suite compares, so they are measured on identical connections.
 */
export function benchRedis(count: number, options: RedisOptions = {}): BenchRedis {
  let servers: RedisServer[] = [];
  let connected: Redis[] = [];
  const clients = (): Redis[] => {
    if (connected.length === 0) throw new Error('suite setup did not run');
    return connected;
  };
  return {
    setup: async () => {
      servers = await startRedisServers(count);
      connected = servers.map((server) => new Redis(server.url, { ...options, lazyConnect: true }));
      await Promise.all(connected.map((client) => client.connect()));
    },
    teardown: async () => {
      for (const client of connected) client.disconnect();
      connected = [];
      await Promise.all(servers.map((server) => server.destroy()));
      servers = [];
    },
    client: (index = 0) => clients()[index]!,
    clients,
  };
}
