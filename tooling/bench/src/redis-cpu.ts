// CPU per operation for suites that talk to Redis: this process's CPU (user +
// system) and the servers' (INFO cpu), plus INFO commandstats, added up per
// case label. CPU per operation depends far less on what else the machine is
// doing than time per operation does, so it backs up a suite's timing figures.
import type { BenchCase, BenchReport } from './harness.js';

/** What the meter needs of a Redis client: ioredis's `call`. */
export interface InfoClient {
  call(command: string, ...args: string[]): Promise<unknown>;
}

interface CommandTally {
  calls: number;
  us: number;
}

interface CpuTally {
  ops: number;
  nodeUs: number;
  redisUs: number;
  /** Per command name: calls and µs inside Redis (commands run by a script are counted too). */
  commands: Map<string, CommandTally>;
}

interface RedisCounters {
  cpuUs: number;
  commands: Map<string, CommandTally>;
}

type Run = NonNullable<BenchCase['run']>;

export interface RedisCpuMeter {
  /** Wraps a workload so its CPU per operation (ours and the servers') is added up under `label`. */
  measure(label: string, run: Run): Run;
  /** The report: Node and Redis µs per operation, and the commands each operation sent. */
  report(name?: string): BenchReport;
}

function addCommands(into: Map<string, CommandTally>, info: string): void {
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+),usec=(\d+)/gm)) {
    if (m[1] === 'info') continue;
    const c = into.get(m[1]!) ?? { calls: 0, us: 0 };
    c.calls += Number(m[2]);
    c.us += Number(m[3]);
    into.set(m[1]!, c);
  }
}

/** The servers' CPU time (µs) and INFO commandstats (INFO itself left out), summed over `clients`. */
async function redisCounters(clients: readonly InfoClient[]): Promise<RedisCounters> {
  let cpuUs = 0;
  const commands = new Map<string, CommandTally>();
  for (const client of clients) {
    const info = String(await client.call('INFO', 'cpu', 'commandstats'));
    const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    cpuUs += (field('used_cpu_sys') + field('used_cpu_user')) * 1e6;
    addCommands(commands, info);
  }
  return { cpuUs, commands };
}

/** A meter over the servers `clients()` returns (one client per server; read when a case runs). */
export function redisCpuMeter(clients: () => readonly InfoClient[]): RedisCpuMeter {
  const tallies = new Map<string, CpuTally>();
  return {
    measure: (label, run) => async (options) => {
      const servers = clients();
      const before = await redisCounters(servers);
      const start = process.cpuUsage();
      const result = await run(options);
      const node = process.cpuUsage(start);
      const after = await redisCounters(servers);
      const t = tallies.get(label) ?? { ops: 0, nodeUs: 0, redisUs: 0, commands: new Map<string, CommandTally>() };
      t.ops += result.ops;
      t.nodeUs += node.user + node.system;
      t.redisUs += after.cpuUs - before.cpuUs;
      for (const [command, c] of after.commands) {
        const was = before.commands.get(command) ?? { calls: 0, us: 0 };
        const sum = t.commands.get(command) ?? { calls: 0, us: 0 };
        sum.calls += c.calls - was.calls;
        sum.us += c.us - was.us;
        t.commands.set(command, sum);
      }
      tallies.set(label, t);
      return result;
    },
    report: (name = 'CPU per operation (µs; Node = this process, user + system)') => ({
      name,
      collect: () => {
        const figures: Record<string, Record<string, number | string>> = {};
        for (const [label, t] of tallies) {
          // Commands sent less than once per 20 operations (script loading, counter seeding) are left out.
          const commands = [...t.commands]
            .filter(([, c]) => c.calls >= t.ops / 20)
            .sort((a, b) => b[1].calls - a[1].calls || a[0].localeCompare(b[0]))
            .map(([command, c]) => `${command} ${(c.calls / t.ops).toFixed(1)}×${(c.us / c.calls).toFixed(1)}`)
            .join(', ');
          figures[label] = { 'node µs/op': t.nodeUs / t.ops, 'redis µs/op': t.redisUs / t.ops, 'commands/op × µs each': `  ${commands}` };
        }
        return figures;
      },
    }),
  };
}
