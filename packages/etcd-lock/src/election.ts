import type { IKeyValue } from 'etcd3';
import { InvalidOptionsError, NotLeaderError, StoreUnavailableError } from './errors.js';
import { EtcdMutex, validateQueue, type HeldLease } from './mutex.js';
import type { Session } from './session.js';

/** The current leader as read from etcd. */
export interface LeaderInfo {
  /** The leader's key, `<prefix>/<lease id hex>-<n hex>`. */
  readonly key: string;
  /** The value the leader campaigned with or last proclaimed. */
  readonly value: string;
  /** The create revision of the leader's key: grows with every new leader. */
  readonly fencingToken: bigint;
  /** The leader's lease id in hex. */
  readonly leaseId: string;
}

/** This session's leadership, held from `campaign()` until `resign()` or the session's end. */
export interface Leadership extends AsyncDisposable {
  readonly key: string;
  /** The create revision of `key`; use it to fence the leader's writes, as with a lock. */
  readonly fencingToken: bigint;
  /** Aborts when leadership ends: resigned, or the session's lease lost (`SessionExpiredError`). */
  readonly signal: AbortSignal;
  /** The value last campaigned with or proclaimed by this process. */
  readonly value: string;
  /** Replaces the leader's value without an election. `NotLeaderError` if leadership has ended. One Txn. */
  proclaim(value: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** Gives up leadership (deletes the key); the next candidate takes over. Idempotent. */
  resign(options?: { signal?: AbortSignal }): Promise<void>;
}

export interface Election {
  readonly prefix: string;
  readonly session: Session;
  /** Queues as a candidate (first come, first elected) and resolves once this session leads. */
  campaign(value: string, options?: { signal?: AbortSignal }): Promise<Leadership>;
  /** The current leader, or undefined when nobody campaigns. One range read. */
  leader(options?: { signal?: AbortSignal }): Promise<LeaderInfo | undefined>;
  /**
   * Yields the leader now (if any) and again whenever the leader or its value changes.
   * Ends when `signal` aborts; throws `StoreUnavailableError` if the watch fails.
   */
  observe(options?: { signal?: AbortSignal }): AsyncGenerator<LeaderInfo, void, undefined>;
}

/**
 * Leader election on etcd, after etcd's Go `concurrency.Election`: candidates queue
 * exactly like mutex waiters (a key per campaign under `prefix`, ordered by create
 * revision); the lowest key is the leader and its value is the leader's proclamation.
 */
export function election(session: Session, prefix: string): Election {
  validateQueue(session, prefix);
  return new EtcdElection(session, prefix);
}

const MAX_VALUE_BYTES = 1 << 20;

function checkValue(value: unknown): asserts value is string {
  if (typeof value !== 'string' || Buffer.byteLength(value) > MAX_VALUE_BYTES) {
    throw new InvalidOptionsError('value', 'expected a string of at most 1 MiB');
  }
}

class EtcdElection implements Election {
  readonly #queue: EtcdMutex;
  readonly #range: string;

  constructor(
    readonly session: Session,
    readonly prefix: string,
  ) {
    this.#queue = new EtcdMutex(session, prefix);
    this.#range = `${prefix}/`;
  }

  async campaign(value: string, options: { signal?: AbortSignal } = {}): Promise<Leadership> {
    checkValue(value);
    const leave = await this.session.enterLocal(this.#queue.localQueue, options.signal);
    const held = await this.#queue.acquireWith(value, leave, true, options.signal);
    return new EtcdLeadership(this.session, this.prefix, held, value);
  }

  async leader(options: { signal?: AbortSignal } = {}): Promise<LeaderInfo | undefined> {
    const response = await this.session.request('range', 'read leader', options.signal, (call) =>
      this.session.client.getAll().prefix(this.#range).sort('Create', 'Ascend').limit(1).options(call).exec(),
    );
    const kv = response.kvs[0];
    return kv ? leaderInfo(kv) : undefined;
  }

  async *observe(options: { signal?: AbortSignal } = {}): AsyncGenerator<LeaderInfo, void, undefined> {
    const { signal } = options;
    const { session } = this;
    // Observers are not in the queue, so they watch the whole prefix: any change may be a
    // new leader or a new proclamation. Each burst of events costs one leader read.
    const watcher = await session.request('watch', 'observe leader', signal, () =>
      session.client.watch().prefix(this.#range).create(),
    );
    let dirty = true;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const onData = (): void => {
      dirty = true;
      wake?.();
    };
    const onError = (error: unknown): void => {
      failure = error;
      wake?.();
    };
    const onAbort = (): void => wake?.();
    watcher.on('data', onData);
    watcher.on('error', onError);
    signal?.addEventListener('abort', onAbort);
    session.signal.addEventListener('abort', onAbort);
    let last: string | undefined;
    try {
      for (;;) {
        if (signal?.aborted) return;
        session.signal.throwIfAborted();
        if (failure !== undefined) throw new StoreUnavailableError('observe leader', { cause: failure });
        if (!dirty) {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        dirty = false;
        let current: LeaderInfo | undefined;
        try {
          current = await this.leader({ ...(signal ? { signal } : {}) });
        } catch (error) {
          if (signal?.aborted) return;
          throw error;
        }
        const identity = current && `${current.key}\n${current.fencingToken}\n${current.value}`;
        if (current && identity !== last) {
          last = identity;
          yield current;
        }
      }
    } finally {
      watcher.removeListener('data', onData);
      watcher.removeListener('error', onError);
      watcher.on('error', () => undefined);
      signal?.removeEventListener('abort', onAbort);
      session.signal.removeEventListener('abort', onAbort);
      void watcher.cancel().catch(() => undefined);
    }
  }
}

class EtcdLeadership implements Leadership {
  readonly #session: Session;
  readonly #prefix: string;
  readonly #held: HeldLease;
  #value: string;

  constructor(session: Session, prefix: string, held: HeldLease, value: string) {
    this.#session = session;
    this.#prefix = prefix;
    this.#held = held;
    this.#value = value;
  }

  get key(): string {
    return this.#held.key;
  }
  get fencingToken(): bigint {
    return this.#held.fencingToken;
  }
  get signal(): AbortSignal {
    return this.#held.signal;
  }
  get value(): string {
    return this.#value;
  }

  async proclaim(value: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    checkValue(value);
    if (this.#held.released) throw new NotLeaderError(this.#prefix, this.key);
    const session = this.#session;
    const client = session.client;
    // Only while our key is still the one we were elected with.
    const response = await session.request('txn', 'proclaim', options.signal, (call) =>
      client
        .if(this.key, 'Create', '==', this.fencingToken.toString())
        .then(client.put(this.key).value(value).lease(session.leaseIdDecimal))
        .options(call)
        .commit(),
    );
    if (!response.succeeded) throw new NotLeaderError(this.#prefix, this.key);
    this.#value = value;
  }

  resign(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#held.release(options);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.resign();
  }
}

function leaderInfo(kv: IKeyValue): LeaderInfo {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    fencingToken: BigInt(kv.create_revision),
    leaseId: BigInt(kv.lease).toString(16),
  };
}
