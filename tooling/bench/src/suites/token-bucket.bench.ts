// @bulwark/token-bucket vs limiter (its synchronous TokenBucket / RateLimiter
// tryRemoveTokens) and rate-limiter-flexible (RateLimiterMemory's async
// consume; RateLimiterRedis on ioredis). In memory: tryTake on 1 key and over
// 10,000 keys, the allowed and the rejected path. Redis: 64 concurrent callers
// against a Redis started by the suite, with p99 latency.
import type { Redis } from 'ioredis';
import { RedisTokenBucket, TokenBucket } from '@bulwark/token-bucket';
import { RateLimiter, TokenBucket as LimiterTokenBucket } from 'limiter';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { concurrentCallers, defineSuite, type BenchCase } from '../harness.js';
import { benchRedis } from '../redis-servers.js';

const KEYS = Array.from({ length: 10_000 }, (_, i) => `user:${i}`);
const HUGE = 1e12; // capacity and rate so large that every call is allowed

// Fail fast rather than queue while Redis is unreachable, as the packages' READMEs advise.
const redis = benchRedis(1, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
const client = (): Redis => redis.client();

/** Swallows rate-limiter-flexible's rejection (it rejects the promise when over the limit). */
function ignore(): void {}

function memoryCases(allowed: boolean, manyKeys: boolean): BenchCase[] {
  const capacity = allowed ? HUGE : 1;
  const rate = allowed ? HUGE : 1e-9; // per second
  let i = 0;
  const next = (): string => KEYS[(i = i + 1 === KEYS.length ? 0 : i + 1)]!;
  const ours = new TokenBucket({ capacity, refillRate: rate, intervalMs: 1000, maxKeys: 20_000 });
  const theirBuckets = new Map<string, LimiterTokenBucket>();
  const theirBucket = (key: string): LimiterTokenBucket => {
    let bucket = theirBuckets.get(key);
    if (!bucket) {
      bucket = new LimiterTokenBucket({ bucketSize: capacity, tokensPerInterval: rate, interval: 1000 });
      bucket.content = capacity; // limiter starts empty; ours starts full
      theirBuckets.set(key, bucket);
    }
    return bucket;
  };
  const theirLimiters = new Map<string, RateLimiter>();
  const theirLimiter = (key: string): RateLimiter => {
    let limiter = theirLimiters.get(key);
    if (!limiter) {
      limiter = new RateLimiter({ tokensPerInterval: allowed ? 1e9 : 1, interval: 1000 });
      if (allowed) limiter.tokenBucket.content = 1e9;
      theirLimiters.set(key, limiter);
    }
    return limiter;
  };
  const flexible = new RateLimiterMemory({ points: allowed ? 1e9 : 1, duration: allowed ? 1 : 3600 });
  if (!manyKeys) {
    const one = theirBucket('one');
    const oneLimiter = theirLimiter('one');
    ours.tryTake('one');
    one.tryRemoveTokens(1);
    oneLimiter.tryRemoveTokens(1);
    return [
      { library: 'bulwark', fn: () => ours.tryTake('one') },
      { library: 'limiter', variant: 'TokenBucket', fn: () => one.tryRemoveTokens(1) },
      { library: 'limiter', variant: 'RateLimiter', fn: () => oneLimiter.tryRemoveTokens(1) },
      { library: 'rate-limiter-flexible', variant: 'RateLimiterMemory', fn: () => flexible.consume('one').catch(ignore) },
    ];
  }
  return [
    { library: 'bulwark', fn: () => ours.tryTake(next()) },
    { library: 'limiter', variant: 'TokenBucket per key', fn: () => theirBucket(next()).tryRemoveTokens(1) },
    { library: 'limiter', variant: 'RateLimiter per key', fn: () => theirLimiter(next()).tryRemoveTokens(1) },
    { library: 'rate-limiter-flexible', variant: 'RateLimiterMemory', fn: () => flexible.consume(next()).catch(ignore) },
  ];
}

function rejectedVsAllowed(): BenchCase[] {
  const rejecting = new TokenBucket({ capacity: 1, refillRate: 1e-9 });
  const allowing = new TokenBucket({ capacity: HUGE, refillRate: HUGE });
  rejecting.tryTake();
  const theirs = new LimiterTokenBucket({ bucketSize: 1, tokensPerInterval: 1e-9, interval: 1000 });
  const flexible = new RateLimiterMemory({ points: 1, duration: 3600 });
  void flexible.consume('k').catch(ignore);
  return [
    { library: 'bulwark', variant: 'rejected', fn: () => rejecting.tryTake() },
    { library: 'bulwark', variant: 'allowed', fn: () => allowing.tryTake() },
    { library: 'limiter', variant: 'TokenBucket, rejected', fn: () => theirs.tryRemoveTokens(1) },
    { library: 'rate-limiter-flexible', variant: 'RateLimiterMemory, rejected', fn: () => flexible.consume('k').catch(ignore) },
  ];
}

function redisCases(): BenchCase[] {
  let ours: RedisTokenBucket | undefined;
  let single: RedisTokenBucket | undefined;
  let flexible: RateLimiterRedis | undefined;
  // Both libraries share one ioredis client (same options). By default ours coalesces the
  // tryTakes of one tick into one script call; `coalesce: false` shows one script per call.
  return [
    {
      library: 'bulwark',
      setup: () => {
        ours = new RedisTokenBucket({ client: client(), capacity: HUGE, refillRate: HUGE, prefix: 'bench:tb:' });
      },
      run: concurrentCallers(64, (caller) => ours!.tryTake(KEYS[caller]!)),
    },
    {
      library: 'bulwark',
      variant: 'coalesce: false',
      setup: () => {
        single = new RedisTokenBucket({ client: client(), capacity: HUGE, refillRate: HUGE, prefix: 'bench:tb1:', coalesce: false });
      },
      run: concurrentCallers(64, (caller) => single!.tryTake(KEYS[caller]!)),
    },
    {
      library: 'rate-limiter-flexible',
      variant: 'RateLimiterRedis',
      setup: () => {
        flexible = new RateLimiterRedis({ storeClient: client(), points: 1e9, duration: 60, keyPrefix: 'bench:rlf' });
      },
      run: concurrentCallers(64, (caller) => flexible!.consume(KEYS[caller]!).catch(ignore)),
    },
  ];
}

export const suite = defineSuite({
  name: 'token-bucket',
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
