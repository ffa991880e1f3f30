import type { IKeyValue, IRangeResponse, ITxnResponse } from 'etcd3';
import { raceAbort } from './abort.js';
import { InvalidOptionsError, LockHeldError, SessionExpiredError, StoreUnavailableError, type HolderInfo } from './errors.js';
import type { Session } from './session.js';

export interface AcquireOptions {
  /** Cancels the wait; the waiter's key is removed so nobody queued behind it stalls. */
  signal?: AbortSignal;
}

/** A held lock. Release it, or let `await using` do it. */
export interface Lease extends AsyncDisposable {
  /** This holder's key, `<prefix>/<lease id hex>`. */
  readonly key: string;
  /**
   * The create revision of `key`: strictly increasing across successive holders of
   * this lock. Send it with every write to the protected resource and have the resource
   * reject tokens lower than the highest it has seen.
   */
  readonly fencingToken: bigint;
  /**
   * Aborts when the lock is released or can no longer be trusted (the session's lease
   * was lost: reason `SessionExpiredError`).
   */
  readonly signal: AbortSignal;
  readonly released: boolean;
  /** Deletes the key, handing the lock to the next waiter. Idempotent; `StoreUnavailableError` if etcd fails (the key is then removed in the background). */
  release(options?: { signal?: AbortSignal }): Promise<void>;
}

export interface Mutex {
  readonly prefix: string;
  readonly session: Session;
  /** Waits, first come first served, until this session holds the lock. */
  acquire(options?: AcquireOptions): Promise<Lease>;
  /** Takes the lock if nobody holds it or waits for it; otherwise `LockHeldError` without waiting. */
  tryAcquire(options?: AcquireOptions): Promise<Lease>;
  /** Acquires, runs `fn(lease)`, and releases whatever `fn` does. */
  using<T>(fn: (lease: Lease) => Promise<T> | T, options?: AcquireOptions): Promise<T>;
  /** The current holder, or undefined when the lock is free. One range read. */
  holder(options?: AcquireOptions): Promise<HolderInfo | undefined>;
}

/**
 * A FIFO mutex on etcd, after etcd's Go `concurrency.Mutex`. Each waiter puts the key
 * `<prefix>/<lease id>` on its session's lease; waiters are ordered by the keys' create
 * revisions; the lowest holds the lock; every other waiter watches only the deletion of
 * the key just before its own. Within one session, callers of the same prefix queue
 * locally first, since a session has exactly one key per prefix.
 */
export function mutex(session: Session, prefix: string): Mutex {
  validateQueue(session, prefix);
  return new EtcdMutex(session, prefix);
}

/** @internal */
export function validateQueue(session: Session, prefix: string): void {
  if (typeof session !== 'object' || session === null || typeof (session as { enterLocal?: unknown }).enterLocal !== 'function') {
    throw new InvalidOptionsError('session', 'expected a Session from createSession()');
  }
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.endsWith('/')) {
    throw new InvalidOptionsError('prefix', 'expected a non-empty string not ending in "/"');
  }
}

/** @internal shared with the election, which queues candidates the same way. */
export class EtcdMutex implements Mutex {
  readonly #range: string;
  readonly #key: string;

  /**
   * @param queue where our key goes: `<prefix>/` for a mutex, `<prefix>/r/` or `<prefix>/w/` for a read-write lock.
   * @param waitRange the keys that must be gone before we hold it: every key of the mutex;
   *   for a reader, only writers.
   */
  constructor(
    readonly session: Session,
    readonly prefix: string,
    queue = `${prefix}/`,
    waitRange = `${prefix}/`,
  ) {
    this.#range = waitRange;
    this.#key = `${queue}${session.leaseId}`;
  }

  /** @internal this session's key in the queue (also the name of its local queue). */
  get waiterKey(): string {
    return this.#key;
  }

  async acquire(options: AcquireOptions = {}): Promise<Lease> {
    const leave = await this.session.enterLocal(this.#key, options.signal);
    return this.acquireWith(this.session.holderId, leave, true, options.signal);
  }

  async tryAcquire(options: AcquireOptions = {}): Promise<Lease> {
    options.signal?.throwIfAborted();
    const leave = this.session.tryEnterLocal(this.#key);
    if (!leave) throw new LockHeldError(this.prefix, undefined);
    return this.acquireWith(this.session.holderId, leave, false, options.signal);
  }

  async using<T>(fn: (lease: Lease) => Promise<T> | T, options: AcquireOptions = {}): Promise<T> {
    const lease = await this.acquire(options);
    let result: T;
    try {
      result = await fn(lease);
    } catch (error) {
      // fn's error is the one to report; a failed release keeps retrying in the background.
      await lease.release().catch(() => undefined);
      throw error;
    }
    await lease.release();
    return result;
  }

  async holder(options: AcquireOptions = {}): Promise<HolderInfo | undefined> {
    const response = await this.session.request('range', 'read holder', options.signal, (call) =>
      this.session.client.getAll().prefix(this.#range).sort('Create', 'Ascend').limit(1).options(call).exec(),
    );
    const owner = response.kvs[0];
    return owner ? holderInfo(owner) : undefined;
  }

  /** @internal Queues a key holding `value` and waits (or not) until it is the lowest. */
  async acquireWith(value: string, leave: () => void, wait: boolean, signal: AbortSignal | undefined): Promise<HeldLease> {
    const { session } = this;
    const client = session.client;
    let inFlight: Promise<ITxnResponse> | undefined;
    try {
      // One round trip: create our key unless it exists (a retried request may already
      // have created it) and read the owner (lowest create revision). When the key is new
      // it is the newest of all, so the newest keys we wait for are the nearest before us.
      const ownerRange = client.getAll().prefix(this.#range).sort('Create', 'Ascend').limit(1);
      const newestRange = client.getAll().prefix(this.#range).sort('Create', 'Descend').limit(3);
      const response = await session.request('txn', 'create waiter key', signal, (call) => {
        inFlight = client
          .if(this.#key, 'Create', '==', 0)
          .then(client.put(this.#key).value(value).lease(session.leaseIdDecimal), ownerRange, newestRange)
          .else(client.get(this.#key), ownerRange)
          .options(call)
          .commit();
        return inFlight;
      });
      const revision = response.succeeded
        ? BigInt(response.header.revision)
        : BigInt(rangeAt(response, 0)[0]?.create_revision ?? '0');
      if (revision === 0n) throw new StoreUnavailableError('create waiter key', { cause: new Error('waiter key vanished') });
      // The lowest key we must wait for; a key created after ours never blocks us.
      const owner = rangeAt(response, 1)[0];
      if (owner && BigInt(owner.create_revision) < revision) {
        if (!wait) {
          // Take our key back out so nobody queues behind it. One attempt here; if etcd
          // fails it, the removal goes on in the background and we still answer at once.
          try {
            await session.request('deleteRange', 'remove waiter key', undefined, (call) =>
              client.delete().key(this.#key).options(call).exec(),
            );
            leave();
          } catch {
            void session.removeKey(this.#key, undefined).finally(leave);
          }
          throw new LockHeldError(this.prefix, holderInfo(owner));
        }
        const before = response.succeeded ? rangeAt(response, 2).filter((kv) => BigInt(kv.create_revision) < revision) : [];
        await this.#waitForPredecessors(
          revision,
          before[0] && { key: before[0].key.toString(), last: before.length === 1, fromRevision: BigInt(response.header.revision) + 1n },
          signal,
        );
      }
      return new HeldLease(session, this.#key, revision, leave);
    } catch (error) {
      if (error instanceof LockHeldError) throw error;
      // Whatever happened (cancelled, session lost, etcd failed), our key must not stay
      // behind as someone's predecessor. Later callers of this session wait for the removal.
      void session.removeKey(this.#key, inFlight).finally(leave);
      throw error;
    }
  }

  /**
   * etcd's waitDeletes: until no key below ours remains, watch the deletion of the
   * nearest one. Keys created later always have higher revisions, so the set of keys
   * below ours only shrinks: when the one we watch was the only one left (`last`), its
   * deletion makes us the owner without another read, which keeps handoff to one hop.
   */
  async #waitForPredecessors(
    revision: bigint,
    known: { key: string; last: boolean; fromRevision: bigint } | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const { session } = this;
    const client = session.client;
    let predecessor = known;
    for (;;) {
      if (!predecessor) {
        // Read-only Txn: the cost of a range, and it notices if our own key is gone.
        const response = await session.request('txn', 'read predecessor', signal, (call) =>
          client
            .if(this.#key, 'Create', '==', revision.toString())
            .then(
              client
                .getAll()
                .prefix(this.#range)
                .maxCreateRevision((revision - 1n).toString())
                .sort('Create', 'Descend')
                .limit(2),
            )
            .options(call)
            .commit(),
        );
        if (!response.succeeded) {
          throw new SessionExpiredError(session.leaseId, 'expired', {
            cause: new Error(`waiter key ${this.#key} was deleted while waiting (lease expired or key removed)`),
          });
        }
        const before = rangeAt(response, 0);
        if (!before[0]) return;
        predecessor = { key: before[0].key.toString(), last: before.length === 1, fromRevision: BigInt(response.header.revision) + 1n };
      }
      // Watching from just after our read: a deletion in between is replayed, not missed.
      await this.#waitForDelete(predecessor.key, predecessor.fromRevision, signal);
      if (predecessor.last) return;
      predecessor = undefined;
    }
  }

  async #waitForDelete(key: string, fromRevision: bigint, signal: AbortSignal | undefined): Promise<void> {
    const { session } = this;
    const creating = session.client.watch().key(key).startRevision(fromRevision.toString()).only('delete').create();
    let watcher;
    try {
      watcher = await session.request('watch', 'watch predecessor', signal, () => creating);
    } catch (error) {
      void creating.then((late) => late.cancel()).catch(() => undefined);
      throw error;
    }
    const created = watcher;
    const deleted = new Promise<void>((resolve, reject) => {
      created.once('delete', () => resolve());
      created.once('error', (error: Error) => reject(new StoreUnavailableError('watch predecessor', { cause: error })));
    });
    try {
      await raceAbort(deleted, [signal, session.signal]);
    } finally {
      created.removeAllListeners('delete');
      created.removeAllListeners('error');
      created.on('error', () => undefined);
      void created.cancel().catch(() => undefined);
    }
  }
}

/** @internal */
export class HeldLease implements Lease {
  readonly #session: Session;
  readonly #controller = new AbortController();
  readonly #leave: () => void;
  #releasing: Promise<void> | undefined;
  readonly signal: AbortSignal;

  constructor(
    session: Session,
    readonly key: string,
    readonly fencingToken: bigint,
    leave: () => void,
  ) {
    this.#session = session;
    this.#leave = leave;
    this.signal = AbortSignal.any([session.signal, this.#controller.signal]);
  }

  get released(): boolean {
    return this.#releasing !== undefined;
  }

  release(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#releasing ??= this.#release(options.signal);
    return this.#releasing;
  }

  async #release(signal: AbortSignal | undefined): Promise<void> {
    const session = this.#session;
    this.#controller.abort(new DOMException(`lock ${this.key} released`, 'AbortError'));
    if (session.state !== 'alive') {
      // The lease (and with it our key) is gone already.
      this.#leave();
      return;
    }
    try {
      await session.request('deleteRange', 'release', signal, (call) =>
        session.client.delete().key(this.key).options(call).exec(),
      );
      this.#leave();
    } catch (error) {
      void session.removeKey(this.key, undefined).finally(this.#leave);
      throw error;
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

function rangeAt(response: ITxnResponse, index: number): IKeyValue[] {
  const op = response.responses[index] as { response_range?: IRangeResponse } | undefined;
  return op?.response_range?.kvs ?? [];
}

/** @internal */
export function holderInfo(kv: IKeyValue): HolderInfo {
  return {
    key: kv.key.toString(),
    fencingToken: BigInt(kv.create_revision),
    leaseId: BigInt(kv.lease).toString(16),
    holderId: kv.value.toString(),
  };
}
