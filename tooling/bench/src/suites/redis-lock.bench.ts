// @bulwark/redis-lock vs redis-semaphore's Mutex: acquire + release on one
// local Redis, one caller (round-trip bound) and 32 callers on 32 keys. Besides
// time, a report of CPU per operation (this process, and Redis from INFO), which
// depends far less on what else the machine is doing than time does.
import { createLock, type RedisLock } from '@bulwark/redis-lock';
import { startRedisServers, type RedisServer } from '@bulwark/servers';
import { Redis } from 'ioredis';
import { Mutex } from 'redis-semaphore';
import { concurrentCallers, defineSuite, keepLatencies, latencyReport, type BenchCase, type BenchReport } from '../harness.js';

let server: RedisServer | undefined;
let redis: Redis | undefined;
const latencies = new Map<string, number[]>();
const cpu = new Map<string, CpuTally>();

function client(): Redis {
  if (!redis) throw new Error('suite setup did not run');
  return redis;
}

function workload(label: string, callers: number, op: (caller: number) => Promise<void>): NonNullable<BenchCase['run']> {
  return measureCpu(cpu, label, keepLatencies(latencies, label, concurrentCallers(callers, op)));
}

interface CpuTally {
  ops: number;
  nodeUs: number;
  redisUs: number;
  /** Per command name: calls and µs inside Redis (commands run by a script are counted too). */
  commands: Map<string, { calls: number; us: number }>;
}

interface RedisCounters {
  cpuUs: number;
  commands: Map<string, { calls: number; us: number }>;
}

function addCommands(into: Map<string, { calls: number; us: number }>, info: string): void {
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+),usec=(\d+)/gm)) {
    if (m[1] === 'info') continue;
    const c = into.get(m[1]!) ?? { calls: 0, us: 0 };
    c.calls += Number(m[2]);
    c.us += Number(m[3]);
    into.set(m[1]!, c);
  }
}

/** Redis's CPU time (µs) and its INFO commandstats (INFO itself left out). */
async function redisCounters(): Promise<RedisCounters> {
  const info = String(await client().call('INFO', 'cpu', 'commandstats'));
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  const commands = new Map<string, { calls: number; us: number }>();
  addCommands(commands, info);
  return { cpuUs: (field('used_cpu_sys') + field('used_cpu_user')) * 1e6, commands };
}

/** Wraps a workload so its CPU per operation (ours and Redis's) is added up under `label`. */
function measureCpu(into: Map<string, CpuTally>, label: string, run: NonNullable<BenchCase['run']>): NonNullable<BenchCase['run']> {
  return async (options) => {
    const before = await redisCounters();
    const start = process.cpuUsage();
    const result = await run(options);
    const node = process.cpuUsage(start);
    const after = await redisCounters();
    const t = into.get(label) ?? { ops: 0, nodeUs: 0, redisUs: 0, commands: new Map<string, { calls: number; us: number }>() };
    t.ops += result.ops;
    t.nodeUs += node.user + node.system;
    t.redisUs += after.cpuUs - before.cpuUs;
    for (const [name, c] of after.commands) {
      const was = before.commands.get(name) ?? { calls: 0, us: 0 };
      const sum = t.commands.get(name) ?? { calls: 0, us: 0 };
      sum.calls += c.calls - was.calls;
      sum.us += c.us - was.us;
      t.commands.set(name, sum);
    }
    into.set(label, t);
    return result;
  };
}

function cpuReport(tallies: ReadonlyMap<string, CpuTally>): BenchReport {
  return {
    name: 'CPU per operation (µs; Node = this process, user + system)',
    collect: () => {
      const figures: Record<string, Record<string, number | string>> = {};
      for (const [label, t] of tallies) {
        // Commands sent less than once per 20 operations (script loading, counter seeding) are left out.
        const commands = [...t.commands]
          .filter(([, c]) => c.calls >= t.ops / 20)
          .sort((a, b) => b[1].calls - a[1].calls || a[0].localeCompare(b[0]))
          .map(([name, c]) => `${name} ${(c.calls / t.ops).toFixed(1)}×${(c.us / c.calls).toFixed(1)}`)
          .join(', ');
        figures[label] = { 'node µs/op': t.nodeUs / t.ops, 'redis µs/op': t.redisUs / t.ops, 'commands/op × µs each': `  ${commands}` };
      }
      return figures;
    },
  };
}

function bulwarkCase(label: string, callers: number): BenchCase {
  let locks: RedisLock[] = [];
  return {
    library: 'bulwark',
    setup: () => {
      // Like for like with the Mutex below: 10 s TTL, one attempt, automatic extension on
      // (ours at half the TTL, redis-semaphore's refresh every 0.8 × lockTimeout).
      locks = Array.from({ length: callers }, (_, i) =>
        createLock({ redis: client(), key: `bench-rl-${callers}-${i}`, ttlMs: 10_000, retry: { attempts: 1 } }),
      );
    },
    run: workload(`${label} · bulwark`, callers, async (caller) => {
      const lease = await locks[caller]!.acquire();
      await lease.release();
    }),
  };
}

function semaphoreCase(label: string, callers: number): BenchCase {
  let mutexes: Mutex[] = [];
  return {
    library: 'redis-semaphore',
    setup: () => {
      mutexes = Array.from(
        { length: callers },
        (_, i) => new Mutex(client(), `bench-rs-${callers}-${i}`, { lockTimeout: 10_000, acquireAttemptsLimit: 1 }),
      );
    },
    run: workload(`${label} · redis-semaphore`, callers, async (caller) => {
      const mutex = mutexes[caller]!;
      await mutex.acquire();
      await mutex.release();
    }),
  };
}

const ONE = 'acquire+release, 1 caller';
const MANY = 'acquire+release, 32 callers on 32 keys';

export const suite = defineSuite({
  name: 'redis-lock',
  setup: async () => {
    [server] = await startRedisServers(1);
    redis = new Redis(server!.url);
  },
  teardown: async () => {
    redis?.disconnect();
    await server?.destroy();
  },
  tasks: [
    { name: ONE, rounds: 5, durationMs: 1_000, cases: [bulwarkCase(ONE, 1), semaphoreCase(ONE, 1)] },
    { name: MANY, rounds: 5, durationMs: 1_000, cases: [bulwarkCase(MANY, 32), semaphoreCase(MANY, 32)] },
  ],
  reports: [latencyReport(latencies), cpuReport(cpu)],
});
