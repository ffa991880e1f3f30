import { hostname } from 'node:os';
import type { Etcd3 } from 'etcd3';
import { delay, raceAbort } from './abort.js';
import { monotonicClock, type Clock } from './clock.js';
import { InvalidOptionsError, SessionExpiredError, StoreUnavailableError, type SessionEndReason } from './errors.js';
import { TypedEvents } from './events.js';
import { etcdLeaseBackend, isLeaseNotFound, type LeaseBackend } from './lease-backend.js';

export interface SessionOptions {
  /** A connected etcd3 client (not a namespace). The session never closes it. */
  client: Etcd3;
  /** Lease TTL in whole seconds, 1..86400. Default 10. A lock survives a silent holder this long. */
  ttlSeconds?: number;
  /** How often the lease is renewed, in ms; > 0 and < ttlSeconds × 1000. Default ttlSeconds × 1000 / 3. */
  keepAliveIntervalMs?: number;
  /** Deadline of every etcd call, in ms, 1..600000. Default 5000. */
  requestTimeoutMs?: number;
  /** Stored as the value of this session's keys; reported in `LockHeldError`. Default `<hostname>/<pid>`. */
  holderId?: string;
  /** Monotonic ms clock used for lease-expiry accounting. Default `performance.now()`. */
  clock?: Clock;
  /** Aborts the lease grant. */
  signal?: AbortSignal;
}

export type SessionState = 'alive' | SessionEndReason;

/** The etcd calls a session issues, counted in `stats().rpcs`. */
export type RpcKind = 'leaseGrant' | 'leaseKeepAlive' | 'leaseRevoke' | 'txn' | 'range' | 'deleteRange' | 'watch';

export interface SessionStats {
  leaseId: string;
  holderId: string;
  ttlSeconds: number;
  state: SessionState;
  /** Milliseconds until the lease runs out by this process's conservative reckoning (0 once ended). */
  expiresInMs: number;
  keepAlivesSucceeded: number;
  keepAlivesFailed: number;
  /** Calls issued to etcd, by kind (a watch counts once, when it is created). */
  rpcs: Record<RpcKind, number>;
}

export interface SessionEvents {
  /** The lease expired or etcd reported it gone. Not emitted by `close()`. */
  lost: (error: SessionExpiredError) => void;
  keepAlive: (info: { ttlSeconds: number }) => void;
  /** A renewal failed; the session retries until the lease would have run out. */
  keepAliveFailed: (error: StoreUnavailableError) => void;
}

const KEEP_ALIVE_RETRY_MS = 250;

interface ResolvedOptions {
  client: Etcd3;
  ttlSeconds: number;
  keepAliveIntervalMs: number;
  requestTimeoutMs: number;
  holderId: string;
  clock: Clock;
}

function validate(options: SessionOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionsError('options', 'expected an object with at least { client }');
  }
  const { client } = options;
  if (typeof client !== 'object' || client === null || typeof (client as { leaseClient?: unknown }).leaseClient !== 'object') {
    throw new InvalidOptionsError('client', 'expected an Etcd3 client from the etcd3 package');
  }
  const ttlSeconds = options.ttlSeconds ?? 10;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 86_400) {
    throw new InvalidOptionsError('ttlSeconds', `expected an integer in 1..86400, got ${String(ttlSeconds)}`);
  }
  const keepAliveIntervalMs = options.keepAliveIntervalMs ?? (ttlSeconds * 1000) / 3;
  if (!Number.isFinite(keepAliveIntervalMs) || keepAliveIntervalMs <= 0 || keepAliveIntervalMs >= ttlSeconds * 1000) {
    throw new InvalidOptionsError(
      'keepAliveIntervalMs',
      `expected a number in (0, ${ttlSeconds * 1000}) (below the TTL), got ${String(keepAliveIntervalMs)}`,
    );
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  if (!Number.isFinite(requestTimeoutMs) || requestTimeoutMs < 1 || requestTimeoutMs > 600_000) {
    throw new InvalidOptionsError('requestTimeoutMs', `expected a number in 1..600000, got ${String(requestTimeoutMs)}`);
  }
  const holderId = options.holderId ?? `${hostname()}/${process.pid}`;
  if (typeof holderId !== 'string' || holderId.length === 0 || holderId.length > 1024) {
    throw new InvalidOptionsError('holderId', 'expected a non-empty string of at most 1024 characters');
  }
  const clock = options.clock ?? monotonicClock;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
    throw new InvalidOptionsError('clock', 'expected { now(): number }');
  }
  return { client, ttlSeconds, keepAliveIntervalMs, requestTimeoutMs, holderId, clock };
}

/**
 * Grants a lease and keeps it alive. Options are validated synchronously (this throws
 * `InvalidOptionsError` before returning a promise); the grant rejects with
 * `StoreUnavailableError` when etcd does not answer within `requestTimeoutMs`.
 */
export function createSession(options: SessionOptions): Promise<Session> {
  const resolved = validate(options);
  return Session.open(resolved, etcdLeaseBackend(resolved.client), options.signal);
}

/** @internal for unit tests: a session over any lease backend. */
export function openSessionWithBackend(
  options: SessionOptions,
  backend: LeaseBackend,
): Promise<Session> {
  return Session.open(validate(options), backend, options.signal);
}

/**
 * One etcd lease, kept alive in the background, that owns every lock key taken through
 * it. `signal` aborts (with a `SessionExpiredError`) as soon as this process can no
 * longer be sure the lease exists: when the lease's TTL, counted from the moment the
 * last successful renewal was sent, has run out, or when etcd answers a renewal with
 * "not found". That is never later than the lease's real expiry on the server.
 */
export class Session implements AsyncDisposable {
  readonly #options: ResolvedOptions;
  readonly #backend: LeaseBackend;
  readonly #events = new TypedEvents<SessionEvents>();
  readonly #controller = new AbortController();
  readonly #rpcs: Record<RpcKind, number> = {
    leaseGrant: 1,
    leaseKeepAlive: 0,
    leaseRevoke: 0,
    txn: 0,
    range: 0,
    deleteRange: 0,
    watch: 0,
  };
  readonly #localQueues = new Map<string, Promise<void>>();
  /** Acquisitions started through this session: the suffix that makes each waiter key unique. */
  #acquisitions = 0;
  /** Per local queue: keys whose creating Txn failed without an answer (so may still be created late), with when. */
  readonly #unsettledKeys = new Map<string, Map<string, number>>();
  #state: SessionState = 'alive';
  #expiresAt: number;
  #keepAliveTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  #keepAlivesSucceeded = 0;
  #keepAlivesFailed = 0;
  #lastKeepAliveError: unknown;
  #closing: Promise<void> | undefined;

  /** The lease id, lowercase hex (as in the keys `<prefix>/<leaseId>-<n>`). */
  readonly leaseId: string;
  /** @internal the lease id as etcd's decimal string. */
  readonly leaseIdDecimal: string;
  readonly ttlSeconds: number;
  readonly holderId: string;

  private constructor(options: ResolvedOptions, backend: LeaseBackend, leaseIdDecimal: string, ttlSeconds: number, grantSentAt: number) {
    this.#options = options;
    this.#backend = backend;
    this.leaseIdDecimal = leaseIdDecimal;
    this.leaseId = BigInt(leaseIdDecimal).toString(16);
    this.ttlSeconds = ttlSeconds;
    this.holderId = options.holderId;
    this.#expiresAt = grantSentAt + ttlSeconds * 1000;
    this.#armExpiry();
    this.#scheduleKeepAlive(options.keepAliveIntervalMs);
  }

  /** @internal */
  static async open(options: ResolvedOptions, backend: LeaseBackend, signal: AbortSignal | undefined): Promise<Session> {
    signal?.throwIfAborted();
    const sentAt = options.clock.now();
    const granting = backend.grant(options.ttlSeconds, Date.now() + options.requestTimeoutMs);
    let granted: { id: string; ttlSeconds: number };
    try {
      granted = await raceAbort(withTimeout(granting, options.requestTimeoutMs), [signal]);
    } catch (error) {
      // A grant that lands after we gave up must not linger for a whole TTL.
      granting.then(
        (late) => backend.revoke(late.id, Date.now() + options.requestTimeoutMs).catch(() => undefined),
        () => undefined,
      );
      if (signal?.aborted && error === signal.reason) throw error;
      throw new StoreUnavailableError('lease grant', { cause: error });
    }
    return new Session(options, backend, granted.id, granted.ttlSeconds, sentAt);
  }

  /** Aborts with a `SessionExpiredError` when the lease is lost or the session closed. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get state(): SessionState {
    return this.#state;
  }

  /** @internal */
  get client(): Etcd3 {
    return this.#options.client;
  }

  on<K extends keyof SessionEvents>(event: K, listener: SessionEvents[K]): () => void {
    return this.#events.on(event, listener);
  }

  stats(): SessionStats {
    return {
      leaseId: this.leaseId,
      holderId: this.holderId,
      ttlSeconds: this.ttlSeconds,
      state: this.#state,
      expiresInMs: this.#state === 'alive' ? Math.max(0, this.#expiresAt - this.#options.clock.now()) : 0,
      keepAlivesSucceeded: this.#keepAlivesSucceeded,
      keepAlivesFailed: this.#keepAlivesFailed,
      rpcs: { ...this.#rpcs },
    };
  }

  toJSON(): SessionStats {
    return this.stats();
  }

  /**
   * Stops renewing and revokes the lease, which deletes every key (lock) it owns.
   * Idempotent. Rejects with `StoreUnavailableError` if the revoke fails; the lease then
   * expires on its own within `ttlSeconds`.
   */
  close(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#closing ??= this.#close();
    // The signal only stops the caller waiting; the revoke (or the TTL) still ends the lease.
    return raceAbort(this.#closing, [options.signal]);
  }

  async #close(): Promise<void> {
    const wasAlive = this.#state === 'alive';
    this.#end(new SessionExpiredError(this.leaseId, 'closed'));
    if (!wasAlive) return;
    this.#rpcs.leaseRevoke++;
    const timeoutMs = this.#options.requestTimeoutMs;
    try {
      await withTimeout(this.#backend.revoke(this.leaseIdDecimal, Date.now() + timeoutMs), timeoutMs);
    } catch (error) {
      throw new StoreUnavailableError('lease revoke', { cause: error });
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * @internal Runs one etcd call with the session's deadline, counted, abortable by
   * `signal` and by the session's end; etcd failures become typed errors.
   */
  async request<T>(kind: RpcKind, operation: string, signal: AbortSignal | undefined, call: (options: { deadline: number }) => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    this.signal.throwIfAborted();
    this.#rpcs[kind]++;
    const timeoutMs = this.#options.requestTimeoutMs;
    try {
      return await raceAbort(withTimeout(call({ deadline: Date.now() + timeoutMs }), timeoutMs), [signal, this.signal]);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      if (this.signal.aborted && error === this.signal.reason) throw error;
      if (isLeaseNotFound(error)) {
        this.#lose(error);
        throw this.signal.reason as Error;
      }
      throw new StoreUnavailableError(operation, { cause: error });
    }
  }

  /**
   * @internal A name no earlier acquisition of this session has used: `<leaseId>-<n>`,
   * `n` counting up from 1 in hex. Waiter keys are `<queue><name>`, so a delete meant for
   * one acquisition's key (a late retry, a timed-out release that commits later) can
   * never remove the key of a later acquisition of the same lock.
   */
  nextWaiterName(): string {
    return `${this.leaseId}-${(++this.#acquisitions).toString(16)}`;
  }

  /**
   * @internal Remembers that `key` (of the local queue `queue`) may yet be created by a
   * Txn that failed without an answer: the next acquisitions on `queue` delete it in
   * their own Txn until one of those deletes finds it.
   */
  noteUnsettledKey(queue: string, key: string): void {
    let keys = this.#unsettledKeys.get(queue);
    if (!keys) this.#unsettledKeys.set(queue, (keys = new Map<string, number>()));
    keys.set(key, this.#options.clock.now());
    // Bounded: an outage that fails many acquisitions must not grow every later Txn.
    if (keys.size > MAX_UNSETTLED_KEYS) keys.delete(keys.keys().next().value!);
  }

  /**
   * @internal The unsettled keys of `queue` (see `noteUnsettledKey`), or undefined (the
   * usual case: one size check). A key is forgotten once a delete found it, or
   * `UNSETTLED_KEY_MS` after its Txn failed (a write etcd has not committed by then is
   * not expected to commit any more).
   */
  unsettledKeys(queue: string): string[] | undefined {
    if (this.#unsettledKeys.size === 0) return undefined;
    const keys = this.#unsettledKeys.get(queue);
    if (!keys) return undefined;
    const now = this.#options.clock.now();
    for (const [key, notedAt] of keys) if (now - notedAt > UNSETTLED_KEY_MS) keys.delete(key);
    if (keys.size === 0) {
      this.#unsettledKeys.delete(queue);
      return undefined;
    }
    return [...keys.keys()];
  }

  /** @internal `key` was created late and deleted again: nothing more to fear from it. */
  settleKey(queue: string, key: string): void {
    const keys = this.#unsettledKeys.get(queue);
    if (keys?.delete(key) && keys.size === 0) this.#unsettledKeys.delete(queue);
  }

  /** @internal Waits for this session's earlier callers for the key `prefix`; resolves with the function that lets the next one in. */
  async enterLocal(prefix: string, signal: AbortSignal | undefined): Promise<() => void> {
    const previous = this.#localQueues.get(prefix);
    if (previous === undefined) {
      // Nobody of this session is queued on `prefix` (the usual case): no wait to race.
      signal?.throwIfAborted();
      this.signal.throwIfAborted();
      return this.tryEnterLocal(prefix)!;
    }
    let leave!: () => void;
    const mine = new Promise<void>((resolve) => (leave = resolve));
    const tail = previous.then(() => mine);
    this.#localQueues.set(prefix, tail);
    const leaveOnce = once(() => {
      leave();
      // Forget the queue when nobody is behind us, so long-lived sessions do not grow.
      void tail.then(() => {
        if (this.#localQueues.get(prefix) === tail) this.#localQueues.delete(prefix);
      });
    });
    try {
      await raceAbort(previous, [signal, this.signal]);
    } catch (error) {
      leaveOnce();
      throw error;
    }
    return leaveOnce;
  }

  /** @internal Like `enterLocal`, but only if nobody of this session is queued on `prefix`. */
  tryEnterLocal(prefix: string): (() => void) | undefined {
    if (this.#localQueues.has(prefix)) return undefined;
    let leave!: () => void;
    const tail = new Promise<void>((resolve) => (leave = resolve));
    this.#localQueues.set(prefix, tail);
    return once(() => {
      leave();
      if (this.#localQueues.get(prefix) === tail) this.#localQueues.delete(prefix);
    });
  }

  /**
   * @internal Deletes `key` once `after` has settled, retrying while the session lives,
   * so a cancelled or failed acquisition never leaves a key that would stall the queue.
   * Never rejects.
   */
  async removeKey(key: string, after: Promise<unknown> | undefined): Promise<void> {
    if (after) await after.then(noop, noop);
    for (let attempt = 0; this.#state === 'alive'; attempt++) {
      try {
        await this.request('deleteRange', 'delete', undefined, (options) => this.client.kv.deleteRange({ key: Buffer.from(key) }, options));
        return;
      } catch {
        // Retry with a capped backoff; the session's end (lease gone) deletes the key anyway.
        await delay(Math.min(2000, 100 * 2 ** attempt), [this.signal]).catch(noop);
      }
    }
  }

  #scheduleKeepAlive(ms: number): void {
    clearTimeout(this.#keepAliveTimer);
    if (this.#state !== 'alive') return;
    this.#keepAliveTimer = setTimeout(() => void this.#keepAlive(), ms);
    this.#keepAliveTimer.unref();
  }

  async #keepAlive(): Promise<void> {
    if (this.#state !== 'alive') return;
    const { clock, keepAliveIntervalMs, requestTimeoutMs } = this.#options;
    const sentAt = clock.now();
    if (sentAt >= this.#expiresAt) {
      // We were not running (a paused process, a blocked event loop) until after the lease
      // could have expired: someone else may hold our locks now. Renewing would hide that.
      this.#armExpiry();
      return;
    }
    // Waiting past the lease's end is pointless: cap the call at what is left of it.
    const timeoutMs = Math.max(1, Math.min(requestTimeoutMs, this.#expiresAt - sentAt));
    this.#rpcs.leaseKeepAlive++;
    try {
      const ttlSeconds = await withTimeout(this.#backend.keepAlive(this.leaseIdDecimal, Date.now() + timeoutMs), timeoutMs);
      if (this.#state !== 'alive') return;
      if (ttlSeconds <= 0) {
        this.#lose(new Error('etcd no longer knows the lease (expired or revoked)'));
        return;
      }
      this.#keepAlivesSucceeded++;
      // The server restarted its countdown no earlier than we sent the request.
      this.#expiresAt = Math.max(this.#expiresAt, sentAt + ttlSeconds * 1000);
      this.#armExpiry();
      this.#events.emit('keepAlive', { ttlSeconds });
      this.#scheduleKeepAlive(keepAliveIntervalMs);
    } catch (error) {
      if (this.#state !== 'alive') return;
      if (isLeaseNotFound(error)) {
        this.#lose(error);
        return;
      }
      this.#keepAlivesFailed++;
      this.#lastKeepAliveError = error;
      this.#events.emit('keepAliveFailed', new StoreUnavailableError('lease keep-alive', { cause: error }));
      this.#scheduleKeepAlive(Math.min(keepAliveIntervalMs, KEEP_ALIVE_RETRY_MS));
    }
  }

  #armExpiry(): void {
    clearTimeout(this.#expiryTimer);
    if (this.#state !== 'alive') return;
    const remaining = this.#expiresAt - this.#options.clock.now();
    if (remaining <= 0) {
      this.#lose(this.#lastKeepAliveError ?? new Error('lease TTL ran out without a successful keep-alive'));
      return;
    }
    this.#expiryTimer = setTimeout(() => this.#armExpiry(), remaining);
    this.#expiryTimer.unref();
  }

  #lose(cause: unknown): void {
    if (this.#state !== 'alive') return;
    const error = new SessionExpiredError(this.leaseId, 'expired', { cause });
    this.#end(error);
    this.#events.emit('lost', error);
  }

  #end(reason: SessionExpiredError): void {
    if (this.#state !== 'alive') return;
    this.#state = reason.reason;
    clearTimeout(this.#keepAliveTimer);
    clearTimeout(this.#expiryTimer);
    this.#controller.abort(reason);
  }
}

function noop(): void {}

/** How many unsettled keys (see `Session.noteUnsettledKey`) a local queue remembers at most. */
const MAX_UNSETTLED_KEYS = 16;
/** How long an unsettled key is deleted by later acquisitions of its lock. */
const UNSETTLED_KEY_MS = 60_000;

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

/** gRPC deadlines should fire first; this is a backstop for calls that never settle (e.g. watch creation). */
function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs + 100);
    timer.unref();
  });
  work.catch(noop);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
