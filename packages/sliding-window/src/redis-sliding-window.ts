import type { Cluster, Redis } from 'ioredis';
import {
  DeadlineQueue,
  InvalidArgumentError,
  LimiterClosedError,
  RedisLimiterLifecycle,
  ScriptBatcher,
  WaitExceedsDeadlineError,
  boundedCall,
  decideOnStoreError,
  isSingleNodeClient,
  parseTakeArguments,
  validateRedisClient,
  validateStorePolicy,
  validateStoreTimeout,
} from '@bulwark/token-bucket';
import type {
  Clock,
  RateLimitResult,
  RedisCallOptions,
  StoreErrorEvent,
  StoreErrorPolicy,
  TakeOptions,
  TakeResult,
} from '@bulwark/token-bucket';
import {
  SLIDING_LOG_BATCH_LUA,
  SLIDING_LOG_LUA,
  WINDOW_COUNTER_BATCH_LUA,
  WINDOW_COUNTER_LUA,
  WINDOW_COUNTER_TRY_LUA,
} from './redis-scripts.js';
import type { SlidingWindowAlgorithm } from './types.js';
import { checkCount, windowConfig, type WindowConfig, type WindowOptions } from './window.js';

export interface RedisSlidingWindowOptions extends Partial<WindowOptions> {
  /** An ioredis client or Cluster. Set `enableOfflineQueue: false` (or a `commandTimeout`) so calls fail fast while Redis is down. */
  client: Redis | Cluster;
  /** `'log'` (exact; a sorted set with one entry per admitted request) or `'counter'` (approximate; one small hash). */
  algorithm: SlidingWindowAlgorithm;
  /**
   * Several policies checked and charged all-or-nothing in one script, e.g.
   * `[{ limit: 10, windowMs: 1000 }, { limit: 1000, windowMs: 3_600_000 }]`.
   * Give either this or `limit` + `windowMs`.
   */
  policies?: readonly WindowOptions[];
  /** Key prefix. Default `'bulwark:sw:'`. */
  prefix?: string;
  /** What a call decides when Redis fails or times out. Default `'throw'` (StoreUnavailableError). */
  onStoreError?: StoreErrorPolicy;
  /** How long one call waits for Redis before it counts as a store error. Default 1000 ms. */
  timeoutMs?: number;
  /** Client-side time, used only to report `waitedMs` and for `take` deadlines; decisions use Redis `TIME`. */
  clock?: Clock;
  /**
   * Single-node client and a single policy: send the `tryTake`s made in the same tick as
   * one script call over all their keys (each decision still exact, in call order, one
   * round trip). Default `true`; set `false` behind a proxy that refuses multi-key scripts.
   * Cluster clients always send one single-key script per call.
   */
  coalesce?: boolean;
}

/** A decision taken by the script: also says when, by Redis's clock. */
export interface RedisRateLimitResult extends RateLimitResult {
  /** Redis `TIME` of the decision in ms (absent when `onStoreError` decided). */
  serverTimeMs?: number;
}

export interface RedisSlidingWindowEvents {
  /** Redis failed or timed out; `onStoreError` decided the call. */
  storeError: StoreErrorEvent;
}

type ScriptCommand = (key: string, ...args: string[]) => Promise<unknown>;

const COMMANDS = { log: 'bulwarkSlidingLogV2', counter: 'bulwarkWindowCounterV2' } as const;
const COUNTER_TRY_COMMAND = 'bulwarkWindowCounterTryV2';
const BATCH_COMMANDS = { log: 'bulwarkSlidingLogBatchV1', counter: 'bulwarkWindowCounterBatchV1' } as const;
const performanceClock: Clock = { now: () => performance.now() };

/**
 * A sliding-window limiter per key kept in Redis: each decision is one EVALSHA
 * (falling back to EVAL on NOSCRIPT) of a script that reads Redis's clock, so
 * client clocks cannot over-admit, and sets a PEXPIRE so idle keys vanish.
 */
export class RedisSlidingWindow {
  readonly algorithm: SlidingWindowAlgorithm;
  readonly policies: readonly WindowConfig[];
  readonly #client: Redis | Cluster;
  readonly #command: string;
  readonly #prefix: string;
  readonly #onStoreError: StoreErrorPolicy;
  readonly #deadlines: DeadlineQueue;
  readonly #clock: Clock;
  readonly #commandArgs: string[];
  readonly #limit: number;
  /** Coalesces single-policy `tryTake`s per tick (single-node clients; undefined otherwise). */
  readonly #batcher: ScriptBatcher<RedisRateLimitResult> | undefined;
  readonly #lifecycle = new RedisLimiterLifecycle();

  constructor(options: RedisSlidingWindowOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object');
    this.#client = validateRedisClient(options.client);
    if (options.algorithm !== 'log' && options.algorithm !== 'counter') {
      throw new InvalidArgumentError(`algorithm must be 'log' or 'counter', got ${String(options.algorithm)}`);
    }
    this.algorithm = options.algorithm;
    const policies: readonly WindowOptions[] | undefined = options.policies;
    if (policies !== undefined) {
      if (!Array.isArray(policies) || policies.length === 0) throw new InvalidArgumentError('policies must be a non-empty array');
      if (options.limit !== undefined || options.windowMs !== undefined) {
        throw new InvalidArgumentError('give either policies or limit/windowMs, not both');
      }
      this.policies = policies.map((policy: WindowOptions, i: number) => windowConfig(policy, `policies[${i}].`));
    } else {
      this.policies = [windowConfig({ limit: options.limit as number, windowMs: options.windowMs as number })];
    }
    this.#prefix = options.prefix ?? 'bulwark:sw:';
    if (typeof this.#prefix !== 'string') throw new InvalidArgumentError('prefix must be a string');
    this.#onStoreError = validateStorePolicy(options.onStoreError ?? 'throw');
    this.#deadlines = new DeadlineQueue(validateStoreTimeout(options.timeoutMs));
    this.#clock = options.clock ?? performanceClock;
    this.#limit = Math.min(...this.policies.map((p) => p.limit));
    if (this.algorithm === 'log') {
      this.#command = COMMANDS.log;
      this.#commandArgs = [String(this.policies.length)];
      for (const p of this.policies) this.#commandArgs.push(String(p.limit), String(p.windowMs));
      this.#client.defineCommand(this.#command, { numberOfKeys: 1, lua: SLIDING_LOG_LUA });
    } else {
      // The counter scripts work in whole microseconds; the key lives two of its longest windows + 1 s.
      const ttl = String(Math.ceil(2 * Math.max(...this.policies.map((p) => p.windowMs))) + 1000);
      if (this.policies.length === 1) {
        // One policy: the straight-line script (same storage format, fewer steps).
        const policy = this.policies[0]!;
        this.#command = COUNTER_TRY_COMMAND;
        this.#commandArgs = [String(policy.limit), String(policy.windowMs * 1000), ttl];
        this.#client.defineCommand(this.#command, { numberOfKeys: 1, lua: WINDOW_COUNTER_TRY_LUA });
      } else {
        this.#command = COMMANDS.counter;
        this.#commandArgs = [String(this.policies.length)];
        for (const p of this.policies) this.#commandArgs.push(String(p.limit), String(p.windowMs * 1000));
        this.#commandArgs.push(ttl);
        this.#client.defineCommand(this.#command, { numberOfKeys: 1, lua: WINDOW_COUNTER_LUA });
      }
    }
    const coalesce = options.coalesce ?? true;
    if (typeof coalesce !== 'boolean') throw new InvalidArgumentError('coalesce must be a boolean');
    if (coalesce && this.policies.length === 1 && isSingleNodeClient(this.#client)) {
      const policy = this.policies[0]!;
      const command = BATCH_COMMANDS[this.algorithm];
      this.#client.defineCommand(command, { lua: this.algorithm === 'log' ? SLIDING_LOG_BATCH_LUA : WINDOW_COUNTER_BATCH_LUA });
      const limit = this.#limit;
      this.#batcher = new ScriptBatcher<RedisRateLimitResult>({
        client: this.#client,
        command,
        prefix: this.#prefix,
        // The log takes its window in ms; the counter in µs, with the key's TTL (as its single-call script).
        args: this.algorithm === 'log' ? [String(policy.limit), String(policy.windowMs)] : this.#commandArgs,
        headerWidth: 1,
        slotWidth: 4,
        deadlines: this.#deadlines,
        checkCount: (count) => {
          for (const policy of this.policies) checkCount(policy, count);
        },
        // Redis TIME (µs) first, then per decision integers: allowed, remaining, retryAfter µs, reset µs.
        decode: (reply, offset) => {
          const allowed = reply[offset] === 1;
          return {
            allowed,
            remaining: reply[offset + 1] as number,
            retryAfterMs: allowed ? 0 : (reply[offset + 2] as number) / 1000,
            resetMs: (reply[offset + 3] as number) / 1000,
            limit,
            serverTimeMs: (reply[0] as number) / 1000,
          };
        },
        onStoreError: (error, key, n) => {
          this.#lifecycle.emitStoreError(error, key);
          return decideOnStoreError(this.#onStoreError, error, key, n, limit);
        },
      });
    }
  }

  /** Admits `n` requests under every policy if all have room; otherwise records nothing. One round trip. */
  tryTake(n?: number, options?: RedisCallOptions): Promise<RedisRateLimitResult>;
  tryTake(key: string, n?: number, options?: RedisCallOptions): Promise<RedisRateLimitResult>;
  tryTake(keyOrN?: string | number, nOrOptions?: number | RedisCallOptions, maybeOptions?: RedisCallOptions): Promise<RedisRateLimitResult> {
    const batcher = this.#batcher;
    if (batcher === undefined) return this.#tryTakeOne(keyOrN, nOrOptions, maybeOptions);
    return batcher.submitTake(keyOrN, nOrOptions, maybeOptions);
  }

  /** One script call for this decision alone (several policies, a Cluster client, or `coalesce: false`). */
  async #tryTakeOne(
    keyOrN: string | number | undefined,
    nOrOptions: number | RedisCallOptions | undefined,
    maybeOptions: RedisCallOptions | undefined,
  ): Promise<RedisRateLimitResult> {
    const { key, count, options } = parseTakeArguments(keyOrN, nOrOptions, maybeOptions);
    for (const policy of this.policies) checkCount(policy, count);
    const signal = options.signal;
    signal?.throwIfAborted();
    const args = this.#commandArgs;
    try {
      const command = (this.#client as unknown as Record<string, ScriptCommand>)[this.#command]!;
      const pending =
        args.length === 3
          ? command.call(this.#client, this.#prefix + key, count === 1 ? '1' : String(count), args[0]!, args[1]!, args[2]!)
          : command.call(this.#client, this.#prefix + key, String(count), ...args);
      const reply = await boundedCall(pending, this.#deadlines, signal);
      if (!Array.isArray(reply)) throw new TypeError('unexpected reply from the sliding-window script');
      // Integers: allowed, remaining, retryAfter µs, reset µs, now µs.
      const allowed = reply[0] === 1;
      return {
        allowed,
        remaining: reply[1] as number,
        retryAfterMs: allowed ? 0 : (reply[2] as number) / 1000,
        resetMs: (reply[3] as number) / 1000,
        limit: this.#limit,
        serverTimeMs: (reply[4] as number) / 1000,
      };
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason;
      this.#lifecycle.emitStoreError(error, key);
      return decideOnStoreError(this.#onStoreError, error, key, count, this.#limit);
    }
  }

  /**
   * Retries `tryTake` after each `retryAfterMs` until admitted. Rejects at once,
   * recording nothing, with WaitExceedsDeadlineError when the next retry would
   * fall after `maxWaitMs`. Not FIFO across processes (each retry competes anew).
   */
  take(n?: number, options?: TakeOptions): Promise<TakeResult>;
  take(key: string, n?: number, options?: TakeOptions): Promise<TakeResult>;
  async take(keyOrN?: string | number, nOrOptions?: number | TakeOptions, maybeOptions?: TakeOptions): Promise<TakeResult> {
    const { key, count, options } = parseTakeArguments(keyOrN, nOrOptions, maybeOptions);
    const maxWaitMs = options.maxWaitMs ?? Number.POSITIVE_INFINITY;
    if (!(maxWaitMs >= 0)) throw new InvalidArgumentError(`maxWaitMs must be a number >= 0, got ${String(maxWaitMs)}`);
    const startedAt = this.#clock.now();
    for (;;) {
      if (this.#lifecycle.closed) throw new LimiterClosedError();
      const result = await this.tryTake(key, count, options.signal === undefined ? {} : { signal: options.signal });
      if (result.allowed) return { waitedMs: this.#clock.now() - startedAt };
      const waited = this.#clock.now() - startedAt;
      if (waited + result.retryAfterMs > maxWaitMs) throw new WaitExceedsDeadlineError(waited + result.retryAfterMs, maxWaitMs);
      await this.#lifecycle.sleep(Math.max(1, result.retryAfterMs), options.signal);
    }
  }

  on<E extends keyof RedisSlidingWindowEvents>(event: E, listener: (payload: RedisSlidingWindowEvents[E]) => void): () => void {
    return this.#lifecycle.on(event, listener);
  }

  /** Rejects waiting `take`s with LimiterClosedError. Does not close the client. */
  async close(): Promise<void> {
    await this.#lifecycle.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  toJSON(): { algorithm: SlidingWindowAlgorithm; prefix: string; policies: readonly WindowConfig[]; waiters: number } {
    return { algorithm: this.algorithm, prefix: this.#prefix, policies: this.policies, waiters: this.#lifecycle.waiting };
  }

}
