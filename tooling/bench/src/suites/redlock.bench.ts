// @bulwark/redlock vs node-redlock (redlock@5.0.0-beta.2) over 3 local masters:
// acquire + release, one caller (round-trip bound) and 32 callers on 32 keys. Besides
// time, a report of CPU per operation (this process, and the masters from INFO),
// which depends far less on what else the machine is doing than time does.
import { createRedlock, type Redlock } from '@bulwark/redlock';
import type { Redis } from 'ioredis';
// redlock@5.0.0-beta.2's exports map has no "types" condition, so under NodeNext
// TypeScript cannot find its bundled declarations; describe the part we use.
// @ts-expect-error -- untyped under NodeNext resolution (see above)
import NodeRedlockModule from 'redlock';
import { concurrentCallers, defineSuite, keepLatencies, latencyReport, type BenchCase } from '../harness.js';
import { redisCpuMeter } from '../redis-cpu.js';
import { benchRedis } from '../redis-servers.js';

interface NodeRedlockLike {
  acquire(resources: string[], durationMs: number): Promise<{ release(): Promise<unknown> }>;
}
const NodeRedlock = NodeRedlockModule as new (clients: Redis[], settings: { retryCount: number }) => NodeRedlockLike;

const masters = benchRedis(3);
const latencies = new Map<string, number[]>();
const cpu = redisCpuMeter(masters.clients);

function workload(label: string, callers: number, op: (caller: number) => Promise<void>): NonNullable<BenchCase['run']> {
  return cpu.measure(label, keepLatencies(latencies, label, concurrentCallers(callers, op)));
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
        createRedlock({ clients: masters.clients(), key: `bench-bl-${callers}-${i}`, ttlMs: 10_000, retry: { attempts: 1 }, autoExtend: false }),
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
      redlock = new NodeRedlock(masters.clients(), { retryCount: 0 });
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
  setup: masters.setup,
  teardown: masters.teardown,
  tasks: [
    { name: ONE, rounds: 5, durationMs: 1_000, cases: [bulwarkCase(ONE, 1), nodeRedlockCase(ONE, 1)] },
    { name: MANY, rounds: 5, durationMs: 1_000, cases: [bulwarkCase(MANY, 32), nodeRedlockCase(MANY, 32)] },
  ],
  reports: [latencyReport(latencies), cpu.report('CPU per operation (µs; Node = this process, user + system; Redis = the 3 masters together)')],
});
