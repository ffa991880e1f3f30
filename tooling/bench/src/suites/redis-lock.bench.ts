// @bulwark/redis-lock vs redis-semaphore's Mutex: acquire + release on one
// local Redis, one caller (round-trip bound) and 32 callers on 32 keys. Besides
// time, a report of CPU per operation (this process, and Redis from INFO), which
// depends far less on what else the machine is doing than time does.
import type { Redis } from 'ioredis';
import { createLock, type RedisLock } from '@bulwark/redis-lock';
import { Mutex } from 'redis-semaphore';
import { concurrentCallers, defineSuite, keepLatencies, latencyReport, type BenchCase } from '../harness.js';
import { redisCpuMeter } from '../redis-cpu.js';
import { benchRedis } from '../redis-servers.js';

const redis = benchRedis(1);
const client = (): Redis => redis.client();
const latencies = new Map<string, number[]>();
const cpu = redisCpuMeter(() => [client()]);


function workload(label: string, callers: number, op: (caller: number) => Promise<void>): NonNullable<BenchCase['run']> {
  return cpu.measure(label, keepLatencies(latencies, label, concurrentCallers(callers, op)));
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
  setup: redis.setup,
  teardown: redis.teardown,
  tasks: [
    { name: ONE, rounds: 5, durationMs: 1_000, cases: [bulwarkCase(ONE, 1), semaphoreCase(ONE, 1)] },
    { name: MANY, rounds: 5, durationMs: 1_000, cases: [bulwarkCase(MANY, 32), semaphoreCase(MANY, 32)] },
  ],
  reports: [latencyReport(latencies), cpu.report()],
});
