// @bulwark/sliding-window (exact log and approximate counter) vs
// rate-limiter-flexible's fixed windows (RateLimiterMemory's async consume;
// RateLimiterRedis on ioredis) and limiter's synchronous RateLimiter. In
// memory: tryTake on 1 key and over 10,000 keys, the allowed and the rejected
// path. Redis: 64 concurrent callers against a Redis started by the suite, p99.
import type { Redis } from 'ioredis';
import { RedisSlidingWindow, SlidingLog, SlidingWindowCounter } from '@bulwark/sliding-window';
import { RateLimiter } from 'limiter';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { concurrentCallers, defineSuite, type BenchCase } from '../harness.js';
import { benchRedis } from '../redis-servers.js';

const KEYS = Array.from({ length: 10_000 }, (_, i) => `user:${i}`);
const BIG = 1_000_000_000; // a limit so large that every call is allowed

// Fail fast rather than queue while Redis is unreachable, as the packages' READMEs advise.
const redis = benchRedis(1, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
const client = (): Redis => redis.client();

/** Swallows rate-limiter-flexible's rejection (it rejects the promise when over the limit). */
function ignore(): void {}

function memoryCases(allowed: boolean, manyKeys: boolean): BenchCase[] {
  // Allowed: a huge limit over a short window keeps the log small. Rejected: 1 per hour, used up.
  const limit = allowed ? BIG : 1;
  const windowMs = allowed ? 10 : 3_600_000;
  let i = 0;
  const next = manyKeys ? (): string => KEYS[(i = i + 1 === KEYS.length ? 0 : i + 1)]! : (): string => 'one';
  const log = new SlidingLog({ limit, windowMs, maxKeys: 20_000 });
  const counter = new SlidingWindowCounter({ limit, windowMs, maxKeys: 20_000 });
  const flexible = new RateLimiterMemory({ points: limit, duration: allowed ? 1 : 3600 });
  const theirLimiters = new Map<string, RateLimiter>();
  const theirLimiter = (key: string): RateLimiter => {
    let limiter = theirLimiters.get(key);
    if (!limiter) {
      limiter = new RateLimiter({ tokensPerInterval: limit, interval: windowMs });
      limiter.tokenBucket.content = limit; // limiter starts empty
      theirLimiters.set(key, limiter);
    }
    return limiter;
  };
  if (!allowed) {
    log.tryTake('one');
    counter.tryTake('one');
    theirLimiter('one').tryRemoveTokens(1);
    void flexible.consume('one').catch(ignore);
  }
  return [
    { library: 'bulwark', variant: 'log', fn: () => log.tryTake(next()) },
    { library: 'bulwark', variant: 'counter', fn: () => counter.tryTake(next()) },
    { library: 'limiter', variant: manyKeys ? 'RateLimiter per key' : 'RateLimiter', fn: () => theirLimiter(next()).tryRemoveTokens(1) },
    { library: 'rate-limiter-flexible', variant: 'RateLimiterMemory (fixed window)', fn: () => flexible.consume(next()).catch(ignore) },
  ];
}

function rejectedVsAllowed(): BenchCase[] {
  const rejectingLog = new SlidingLog({ limit: 1, windowMs: 3_600_000 });
  const allowingLog = new SlidingLog({ limit: BIG, windowMs: 10 });
  const rejectingCounter = new SlidingWindowCounter({ limit: 1, windowMs: 3_600_000 });
  const allowingCounter = new SlidingWindowCounter({ limit: BIG, windowMs: 10 });
  rejectingLog.tryTake();
  rejectingCounter.tryTake();
  return [
    { library: 'bulwark', variant: 'log, rejected', fn: () => rejectingLog.tryTake() },
    { library: 'bulwark', variant: 'log, allowed', fn: () => allowingLog.tryTake() },
    { library: 'bulwark', variant: 'counter, rejected', fn: () => rejectingCounter.tryTake() },
    { library: 'bulwark', variant: 'counter, allowed', fn: () => allowingCounter.tryTake() },
  ];
}

function redisCases(): BenchCase[] {
  const ours: Partial<Record<'log' | 'counter', RedisSlidingWindow>> = {};
  let flexible: RateLimiterRedis | undefined;
  const single: Partial<Record<'log' | 'counter', RedisSlidingWindow>> = {};
  // Both libraries share one ioredis client (same options). By default ours coalesces the
  // tryTakes of one tick into one script call; `coalesce: false` shows one script per call.
  const bulwark = (algorithm: 'log' | 'counter', coalesce = true): BenchCase => ({
    library: 'bulwark',
    variant: coalesce ? algorithm : `${algorithm}, coalesce: false`,
    setup: () => {
      // The log keeps one entry per admission for a window: 1 s keeps it realistic.
      const prefix = `bench:sw:${algorithm}${coalesce ? '' : '1'}:`;
      const limiter = new RedisSlidingWindow({ client: client(), algorithm, limit: BIG, windowMs: 1000, prefix, coalesce });
      (coalesce ? ours : single)[algorithm] = limiter;
    },
    run: concurrentCallers(64, (caller) => (coalesce ? ours : single)[algorithm]!.tryTake(KEYS[caller]!)),
  });
  return [
    bulwark('counter'),
    bulwark('log'),
    bulwark('counter', false),
    bulwark('log', false),
    {
      library: 'rate-limiter-flexible',
      variant: 'RateLimiterRedis (fixed window)',
      setup: () => {
        flexible = new RateLimiterRedis({ storeClient: client(), points: BIG, duration: 1, keyPrefix: 'bench:rlf' });
      },
      run: concurrentCallers(64, (caller) => flexible!.consume(KEYS[caller]!).catch(ignore)),
    },
  ];
}

export const suite = defineSuite({
  name: 'sliding-window',
  setup: redis.setup,
  teardown: redis.teardown,
  tasks: [
    { name: 'tryTake, 1 key, allowed', cases: memoryCases(true, false), durationMs: 200 },
    { name: 'tryTake over 10,000 keys, allowed', cases: memoryCases(true, true), durationMs: 200 },
    { name: 'tryTake, 1 key, rejected', cases: memoryCases(false, false), durationMs: 200 },
    { name: 'rejected vs allowed path (bulwark), 1 key', cases: rejectedVsAllowed(), durationMs: 200 },
    { name: 'Redis tryTake, 64 concurrent callers on 64 keys', cases: redisCases(), durationMs: 500, rounds: 3 },
  ],
});
