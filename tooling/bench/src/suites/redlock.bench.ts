// @bulwark/redlock vs node-redlock (redlock@5.0.0-beta.2) over 3 local masters:
// acquire + release, one caller (round-trip bound) and 32 callers on 32 keys. Besides
// time, a report of CPU per operation (this process, and the masters from INFO),
// which depends far less on what else the machine is doing than time does.
import { createRedlock, type Redlock } from '@bulwark/redlock';
import { startRedisServers, type RedisServer } from '@bulwark/servers';
import { Redis } from 'ioredis';
// redlock@5.0.0-beta.2's exports map has no "types" condition, so under NodeNext
// TypeScript cannot find its bundled declarations; describe the part we use.
// @ts-expect-error -- untyped under NodeNext resolution (see above)
import NodeRedlockModule from 'redlock';
import { concurrentCallers, defineSuite, keepLatencies, latencyReport, type BenchCase, type BenchReport } from '../harness.js';

interface NodeRedlockLike {
  acquire(resources: string[], durationMs: number): Promise<{ release(): Promise<unknown> }>;
}
const NodeRedlock = NodeRedlockModule as new (clients: Redis[], settings: { retryCount: number }) => NodeRedlockLike;

let servers: RedisServer[] = [];
let clients: Redis[] = [];
const latencies = new Map<string, number[]>();
const cpu = new Map<string, CpuTally>();

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

/** The masters' CPU time (µs) and INFO commandstats (INFO itself left out), summed. */
async function redisCounters(): Promise<RedisCounters> {
  let cpuUs = 0;
  const commands = new Map<string, { calls: number; us: number }>();
  for (const c of clients) {
    const info = String(await c.call('INFO', 'cpu', 'commandstats'));
    const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    cpuUs += (field('used_cpu_sys') + field('used_cpu_user')) * 1e6;
    addCommands(commands, info);
  }
  return { cpuUs, commands };
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
    name: 'CPU per operation (µs; Node = this process, user + system; Redis = the 3 masters together)',
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
  let locks: Redlock[] = [];
  return {
    library: 'bulwark',
    setup: () => {
      locks = Array.from({ length: callers }, (_, i) =>
        // Like for like with node-redlock's acquire(): same TTL and drift factor (0.01), one attempt,
        // no automatic extension (node-redlock only extends inside using()). The lease still keeps
        // its expiry timer and fencing counters, which node-redlock does not have.
        createRedlock({ clients, key: `bench-bl-${callers}-${i}`, ttlMs: 10_000, retry: { attempts: 1 }, autoExtend: false }),
      );
    },
    run: workload(`${label} · bulwark`, callers, async (caller) => {
      const lease = await locks[caller]!.acquire();
      await lease.release();
    }),
  };
}

function nodeRedlockCase(label: string, callers: number): BenchCase {
  let redlock: NodeRedlockLike | undefined;
  return {
    library: 'redlock',
    setup: () => {
      redlock = new NodeRedlock(clients, { retryCount: 0 });
    },
    run: workload(`${label} · redlock`, callers, async (caller) => {
      const lock = await redlock!.acquire([`bench-nr-${callers}-${caller}`], 10_000);
      await lock.release();
    }),
  };
}

const ONE = '3 masters: acquire+release, 1 caller';
const MANY = '3 masters: acquire+release, 32 callers on 32 keys';

export const suite = defineSuite({
  name: 'redlock',
  setup: async () => {
    servers = await startRedisServers(3);
    clients = servers.map((s) => new Redis(s.url));
  },
  teardown: async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(servers.map((s) => s.destroy()));
  },
  tasks: [
    { name: ONE, rounds: 5, durationMs: 1_000, cases: [bulwarkCase(ONE, 1), nodeRedlockCase(ONE, 1)] },
    { name: MANY, rounds: 5, durationMs: 1_000, cases: [bulwarkCase(MANY, 32), nodeRedlockCase(MANY, 32)] },
  ],
  reports: [latencyReport(latencies), cpuReport(cpu)],
});
