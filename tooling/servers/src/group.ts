import { EtcdCluster, type EtcdClusterOptions } from './etcd.js';
import { startRedisServers, type RedisServer } from './redis.js';

export interface ServerNeeds {
  /** Independent Redis masters to start (0 = none). */
  redis?: number;
  /** Start an etcd cluster (true = 3 members, or a member count). */
  etcd?: boolean | number;
  etcdOptions?: Omit<EtcdClusterOptions, 'size'>;
}

export interface ServerGroupInfo {
  id: string;
  redisUrls: string[];
  etcdEndpoints: string[];
  /** False when the addresses came from environment variables: such servers cannot be stopped or paused. */
  managed: boolean;
}

export type ServerAction = 'stop' | 'kill' | 'pause' | 'resume' | 'restart';
export const SERVER_ACTIONS: readonly ServerAction[] = ['stop', 'kill', 'pause', 'resume', 'restart'];

/** A set of servers started together and torn down together. */
export class ServerGroup {
  private constructor(
    readonly id: string,
    readonly redis: RedisServer[],
    readonly etcd: EtcdCluster | undefined,
  ) {}

  static async start(id: string, needs: ServerNeeds): Promise<ServerGroup> {
    const redisCount = needs.redis ?? 0;
    const etcdSize = needs.etcd === true ? 3 : needs.etcd === false || needs.etcd === undefined ? 0 : needs.etcd;
    const [redis, etcd] = await Promise.all([
      redisCount > 0 ? startRedisServers(redisCount) : Promise.resolve([]),
      etcdSize > 0 ? EtcdCluster.start({ ...needs.etcdOptions, size: etcdSize }) : Promise.resolve(undefined),
    ]);
    return new ServerGroup(id, redis, etcd);
  }

  info(): ServerGroupInfo {
    return {
      id: this.id,
      redisUrls: this.redis.map((r) => r.url),
      etcdEndpoints: this.etcd?.endpoints ?? [],
      managed: true,
    };
  }

  async act(kind: 'redis' | 'etcd', index: number, action: ServerAction): Promise<void> {
    const target = kind === 'redis' ? this.redis[index] : this.etcd?.members[index];
    if (!target) throw new RangeError(`no ${kind} server #${index} in group ${this.id}`);
    switch (action) {
      case 'stop':
        return target.stop();
      case 'kill':
        return target.kill();
      case 'pause':
        return target.pause();
      case 'resume':
        return target.resume();
      case 'restart':
        return target.restart();
    }
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.redis.map((r) => r.destroy()), this.etcd?.destroy()]);
  }
}
