// A small read-through catalog service composed from Bulwark packages, the
// way the reference cache app will compose them:
//
//   client ─▶ token-bucket (per client) ─▶ hashring (pick a Redis shard)
//          ─▶ Redis GET ─miss▶ single-flight ─▶ worker-pool limiter ─▶ circuit-breaker ─▶ origin
//
// and a singleton "refresh" job guarded by a redis-lock lease whose fencing
// token the job hands to the store it writes to.
import type { Redis } from 'ioredis';
import { circuitBreaker, type CircuitBreaker } from '@bulwark/circuit-breaker';
import { HashRing } from '@bulwark/hashring';
import { createLock, type RedisLock } from '@bulwark/redis-lock';
import { TokenBucket, retryAfterHeader } from '@bulwark/token-bucket';
import { createLimiter, type Limiter } from '@bulwark/worker-pool';

export type Origin = (key: string, signal: AbortSignal) => Promise<string>;

export interface CatalogServiceOptions {
  /** Redis shards by id; keys are placed on them with a consistent-hash ring. */
  shards: ReadonlyMap<string, Redis>;
  origin: Origin;
  /** Requests per second per client (also the burst). Default 5. */
  requestsPerSecond?: number;
  /** Origin loads allowed at once. Default 4. */
  originConcurrency?: number;
  /** How long a loaded value stays in Redis. Default 60 s. */
  cacheTtlMs?: number;
  /** How long the origin breaker stays open before probing. Default 1 s. */
  openDurationMs?: number;
}

export type GetResult =
  | { status: 'hit' | 'loaded'; value: string; shard: string }
  | { status: 'stale'; value: string; shard: string; reason: string }
  | { status: 'throttled'; retryAfterSeconds: string };

export class CatalogService {
  readonly ring: HashRing;
  readonly breaker: CircuitBreaker;
  readonly #admission: TokenBucket;
  readonly #limiter: Limiter;
  readonly #inflight = new Map<string, Promise<string>>();
  readonly #shards: ReadonlyMap<string, Redis>;
  readonly #origin: Origin;
  readonly #cacheTtlMs: number;
  /** Origin calls actually made (single-flight makes this smaller than the misses). */
  originCalls = 0;

  constructor(options: CatalogServiceOptions) {
    if (options.shards.size === 0) throw new RangeError('shards must contain at least one Redis');
    this.#shards = options.shards;
    this.#origin = options.origin;
    this.#cacheTtlMs = options.cacheTtlMs ?? 60_000;
    this.ring = new HashRing({ nodes: [...options.shards.keys()] });
    const rate = options.requestsPerSecond ?? 5;
    this.#admission = new TokenBucket({ capacity: rate, refillRate: rate, intervalMs: 1_000 });
    this.#limiter = createLimiter({ concurrency: options.originConcurrency ?? 4 });
    this.breaker = circuitBreaker({
      name: 'origin',
      window: { type: 'count', size: 10 },
      failureRateThreshold: 0.5,
      minimumCalls: 4,
      openDurationMs: options.openDurationMs ?? 1_000,
      halfOpen: { permittedCalls: 1 },
    });
  }

  async get(clientId: string, key: string, options: { signal?: AbortSignal } = {}): Promise<GetResult> {
    const admitted = this.#admission.tryTake(clientId, 1);
    if (!admitted.allowed) return { status: 'throttled', retryAfterSeconds: retryAfterHeader(admitted) ?? '1' };

    const shard = this.ring.lookup(key);
    const redis = this.#shards.get(shard)!;
    const cached = await redis.get(`catalog:${key}`);
    if (cached !== null) return { status: 'hit', value: cached, shard };

    let failure = '';
    const value = await this.#loadOnce(key, options.signal).catch((error: unknown) => {
      failure = error instanceof Error ? error.message : String(error);
      return undefined;
    });
    if (value === undefined) {
      return { status: 'stale', value: `placeholder for ${key}`, shard, reason: failure };
    }
    await redis.set(`catalog:${key}`, value, 'PX', this.#cacheTtlMs);
    return { status: 'loaded', value, shard };
  }

  /** One origin load per key at a time, however many callers miss together. */
  #loadOnce(key: string, signal: AbortSignal | undefined): Promise<string> {
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const load = this.#limiter
      .run(
        ({ signal: taskSignal }) =>
          this.breaker.execute((breakerSignal) => {
            this.originCalls++;
            return this.#origin(key, breakerSignal);
          }, { signal: taskSignal }),
        signal ? { signal } : undefined,
      )
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, load);
    return load;
  }

  /** A lock for the singleton refresh job, on the shard that owns the job's name. */
  refreshLock(): RedisLock {
    const shard = this.ring.lookup('jobs:refresh');
    return createLock({ redis: this.#shards.get(shard)!, key: 'catalog:refresh', ttlMs: 5_000, retry: { attempts: 1 } });
  }

  async close(): Promise<void> {
    await this.#limiter.close();
  }
}

/** A store that accepts a write only with a fencing token newer than any it has seen. */
export class FencedStore {
  #highest = -1;
  readonly writes: { token: number; value: string }[] = [];

  write(token: number, value: string): boolean {
    if (token <= this.#highest) return false;
    this.#highest = token;
    this.writes.push({ token, value });
    return true;
  }
}
