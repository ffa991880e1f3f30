import type {
  IDuplexStream,
  IKeyValue,
  IRangeRequest,
  IRangeResponse,
  IRequestOp,
  ITxnRequest,
  ITxnResponse,
  IWatchRequest,
  IWatchResponse,
} from 'etcd3';
import { delay, raceAbort } from './abort.js';
import { InvalidOptionsError, LockHeldError, SessionExpiredError, StoreUnavailableError, type HolderInfo } from './errors.js';
import type { Session } from './session.js';

export interface AcquireOptions {
  /** Cancels the wait; the waiter's key is removed so nobody queued behind it stalls. */
  signal?: AbortSignal;
}

/** A held lock. Release it, or let `await using` do it. */
export interface Lease extends AsyncDisposable {
  /** This holder's key, `<prefix>/<lease id hex>-<n hex>` (`n` counts the session's acquisitions). */
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
 * `<prefix>/<lease id>-<n>` on its session's lease, `n` new for every acquisition (so a
 * late delete meant for an earlier acquisition's key cannot remove a later one); waiters
 * are ordered by the keys' create revisions; the lowest holds the lock; every other
 * waiter watches only the deletion of the key just before its own. Within one session,
 * callers of the same prefix queue locally first, since a session has at most one key
 * per prefix at a time.
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
  readonly #queue: string;
  /** `<queue><lease id>`: the name of this session's local queue for the lock. */
  readonly #localQueue: string;
  /**
   * The request pieces every acquisition sends, built once. We call etcd3's lower-level
   * `client.kv` RPC interface with them instead of its builders: the same requests,
   * without re-encoding the ranges and the builders' promise plumbing on every call.
   */
  readonly #ownerRange: IRequestOp;
  readonly #newestRange: IRequestOp;
  readonly #waitRange: IRangeRequest;

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
    this.#queue = queue;
    this.#localQueue = `${queue}${session.leaseId}`;
    this.#waitRange = { key: Buffer.from(waitRange), range_end: prefixRangeEnd(Buffer.from(waitRange)) };
    // The owner: the lowest create revision in the range we wait for.
    this.#ownerRange = { request_range: { ...this.#waitRange, sort_target: 'Create', sort_order: 'Ascend', limit: 1 } };
    // When our key is new it is the newest of all, so the newest keys are the nearest before us.
    this.#newestRange = { request_range: { ...this.#waitRange, sort_target: 'Create', sort_order: 'Descend', limit: 3 } };
  }

  /** @internal the name of this session's local queue for the lock (callers of one session take turns). */
  get localQueue(): string {
    return this.#localQueue;
  }

  async acquire(options: AcquireOptions = {}): Promise<Lease> {
    const leave = await this.session.enterLocal(this.#localQueue, options.signal);
    return this.acquireWith(this.session.holderId, leave, true, options.signal);
  }

  async tryAcquire(options: AcquireOptions = {}): Promise<Lease> {
    options.signal?.throwIfAborted();
    const leave = this.session.tryEnterLocal(this.#localQueue);
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
    const kv = session.client.kv;
    // A key no earlier acquisition used: a delete meant for an earlier key (a release that
    // timed out on our side but commits later) can never remove this one.
    const key = this.#queue + session.nextWaiterName();
    const keyBytes = Buffer.from(key);
    let inFlight: Promise<ITxnResponse> | undefined;
    try {
      // One round trip: create our key unless it exists (a retried request may already
      // have created it) and, in the same Txn, read the owner (lowest create revision) and
      // the newest keys. When we are the owner that is all: no watch, no second read.
      const put: IRequestOp = { request_put: { key: keyBytes, value: Buffer.from(value), lease: session.leaseIdDecimal } };
      // Keys of earlier acquisitions whose Txn failed unanswered may have been created
      // after we removed them; delete them first, or we would queue behind ourselves.
      const cleanup = session.unsettledKeys(this.#localQueue) ?? NO_KEYS;
      const request: ITxnRequest = {
        compare: [{ key: keyBytes, target: 'Create', result: 'Equal', create_revision: 0 }],
        success:
          cleanup.length === 0
            ? [put, this.#ownerRange, this.#newestRange]
            : [...cleanup.map((stale): IRequestOp => ({ request_delete_range: { key: Buffer.from(stale) } })), put, this.#ownerRange, this.#newestRange],
        failure: [{ request_range: { key: keyBytes } }, this.#ownerRange],
      };
      const response = await session.request('txn', 'create waiter key', signal, (call) => (inFlight = kv.txn(request, call)));
      let at = 0;
      if (response.succeeded && cleanup.length > 0) {
        for (const stale of cleanup) {
          const deleted = (response.responses[at++] as { response_delete_range?: { deleted?: string | number } } | undefined)?.response_delete_range?.deleted;
          if (Number(deleted ?? 0) > 0) session.settleKey(this.#localQueue, stale);
        }
      }
      const revision = response.succeeded
        ? BigInt(response.header.revision)
        : BigInt(rangeAt(response, 0)[0]?.create_revision ?? '0');
      if (revision === 0n) throw new StoreUnavailableError('create waiter key', { cause: new Error('waiter key vanished') });
      // The lowest key we must wait for; a key created after ours never blocks us.
      const owner = rangeAt(response, response.succeeded ? at + 1 : 1)[0];
      if (owner && BigInt(owner.create_revision) < revision) {
        if (!wait) {
          // Take our key back out so nobody queues behind it. One attempt here; if etcd
          // fails it, the removal goes on in the background and we still answer at once.
          try {
            await session.request('deleteRange', 'remove waiter key', undefined, (call) => kv.deleteRange({ key: keyBytes }, call));
            leave();
          } catch {
            void session.removeKey(key, undefined).finally(leave);
          }
          throw new LockHeldError(this.prefix, holderInfo(owner));
        }
        const before = response.succeeded ? rangeAt(response, at + 2).filter((entry) => BigInt(entry.create_revision) < revision) : [];
        await this.#waitForPredecessors(
          key,
          keyBytes,
          revision,
          before[0] && predecessorOf(before, response),
          signal,
        );
      }
      return new HeldLease(session, key, keyBytes, revision, leave);
    } catch (error) {
      if (error instanceof LockHeldError) throw error;
      // A Txn that failed without an answer may still commit and create our key after the
      // removal below: the next acquisitions on this lock delete it (see above).
      inFlight?.catch(() => session.noteUnsettledKey(this.#localQueue, key));
      // Whatever happened (cancelled, session lost, etcd failed), our key must not stay
      // behind as someone's predecessor. Later callers of this session wait for the removal.
      void session.removeKey(key, inFlight).finally(leave);
      throw error;
    }
  }

  /**
   * etcd's waitDeletes: until no key below ours remains, watch the deletion of the
   * nearest one. Keys created later always have higher revisions, so the set of keys
   * below ours only shrinks: when the one we watch was the only one left (`last`), its
   * deletion makes us the owner without another read, which keeps handoff to one hop.
   * If a watch fails (member lost, revision compacted), we read again and watch again.
   */
  async #waitForPredecessors(
    key: string,
    keyBytes: Buffer,
    revision: bigint,
    known: Predecessor | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const { session } = this;
    let predecessor = known;
    let failures = 0;
    let refusals = 0;
    for (;;) {
      if (!predecessor) {
        // Read-only Txn: the cost of a range, and it notices if our own key is gone.
        const request: ITxnRequest = {
          compare: [{ key: keyBytes, target: 'Create', result: 'Equal', create_revision: revision.toString() }],
          success: [
            {
              request_range: {
                ...this.#waitRange,
                max_create_revision: (revision - 1n).toString(),
                sort_target: 'Create',
                sort_order: 'Descend',
                limit: 2,
              },
            },
          ],
        };
        let response: ITxnResponse;
        try {
          response = await session.request('txn', 'read predecessor', signal, (call) => session.client.kv.txn(request, call));
        } catch (error) {
          // After a failed watch, ride the outage out (as etcd3's own watchers do) until
          // the session is lost or the caller gives up; otherwise report the failure.
          if (failures === 0 || !(error instanceof StoreUnavailableError)) throw error;
          await delay(backoffMs(++failures), [signal, session.signal]);
          continue;
        }
        if (!response.succeeded) {
          throw new SessionExpiredError(session.leaseId, 'expired', {
            cause: new Error(`waiter key ${key} was deleted while waiting (lease expired or key removed)`),
          });
        }
        const before = rangeAt(response, 0);
        if (!before[0]) return;
        predecessor = predecessorOf(before, response);
      }
      const outcome = await this.#watchDeletion(predecessor, signal);
      if (outcome.deleted) {
        if (predecessor.last) return;
        failures = 0;
        refusals = 0;
      } else {
        failures++;
        refusals = outcome.refused ? refusals + 1 : 0;
        // etcd refusing the watch outright (not a lost stream) is not worth retrying for ever.
        if (refusals >= MAX_REFUSED_WATCHES) throw new StoreUnavailableError('watch predecessor', { cause: outcome.cause });
        // Only after a failure: give a restarting member a moment before the next attempt.
        await delay(backoffMs(failures), [signal, session.signal]);
      }
      predecessor = undefined;
    }
  }

  /**
   * Waits for the deletion of `predecessor` (the key as it was at our read) on a watch
   * stream of its own (etcd3's lower-level WatchClient), closed as soon as the wait ends.
   *
   * - etcd3's shared watch manager is not used: when its last watcher goes it cancels its
   *   stream, which etcd3 takes for a host failure (every gRPC client of that member is
   *   reset), and a watch created during that teardown waits out a reconnect backoff
   *   timer (~60-140 ms).
   * - The watch starts "now", not at the revision after our read: etcd serves a watch that
   *   starts in the past from its sync loop, which runs every 100 ms, so its events (even
   *   later ones) can arrive up to 100 ms late. etcd guarantees a watch without a start
   *   revision every event after the revision in its created response. If that revision is
   *   past our read, a deletion in between would not be replayed, so we read the key once:
   *   gone, or re-created (another create revision), means deleted.
   * - Only deletions after our read count: an earlier deletion of the same key name was
   *   of an earlier incarnation of it (waiter keys are unique per acquisition, but a key
   *   written by anyone else may still be re-created under its name).
   *
   * Resolves `{ deleted: false }` when the stream fails or etcd refuses the watch; the
   * caller reads again and watches again.
   */
  async #watchDeletion(
    predecessor: Predecessor,
    signal: AbortSignal | undefined,
  ): Promise<WatchOutcome> {
    const { session } = this;
    const key = Buffer.from(predecessor.key);
    const opening = session.client.watchClient.watch();
    let stream: WatchStream;
    try {
      stream = await session.request('watch', 'watch predecessor', signal, () => opening);
    } catch (error) {
      void opening.then(closeWatchStream, noop);
      throw error;
    }
    let created!: (revision: bigint) => void;
    const watching = new Promise<bigint>((resolve) => (created = resolve));
    const outcome = new Promise<WatchOutcome>((resolve) => {
      stream.on('data', (response) => {
        if (response.canceled) {
          resolve({ deleted: false, refused: true, cause: new Error(`watch refused: ${response.cancel_reason || 'canceled'}`) });
        } else if (response.created) {
          created(BigInt(response.header.revision));
        } else if (response.events.some((event) => BigInt(event.kv.mod_revision) > predecessor.readRevision)) {
          resolve({ deleted: true }); // deletions only: etcd filters out puts
        }
      });
      stream.on('error', (error) => resolve({ deleted: false, refused: false, cause: error }));
      stream.on('end', () => resolve({ deleted: false, refused: false, cause: new Error('watch stream ended') }));
    });
    const checked = watching.then(async (from): Promise<WatchOutcome | undefined> => {
      if (from <= predecessor.readRevision) return undefined; // every deletion after our read will be sent
      try {
        const response = await session.request('range', 'check predecessor', signal, (call) => session.client.kv.range({ key }, call));
        const current = response.kvs[0];
        if (!current || BigInt(current.create_revision) !== predecessor.createRevision) return { deleted: true };
        return undefined;
      } catch (error) {
        if (error instanceof StoreUnavailableError) return { deleted: false, refused: false, cause: error };
        throw error;
      }
    });
    try {
      stream.write({ create_request: { key, filters: ['Noput'] } });
      return await raceAbort(
        Promise.race([outcome, checked.then((result) => result ?? outcome)]),
        [signal, session.signal],
      );
    } finally {
      checked.catch(noop);
      closeWatchStream(stream);
    }
  }
}

const NO_KEYS: readonly string[] = [];

/** The nearest key below ours, as our read saw it. */
interface Predecessor {
  key: string;
  createRevision: bigint;
  /** The revision of that read. */
  readRevision: bigint;
  /** No other key below ours: its deletion makes us the owner. */
  last: boolean;
}

/** `before`: the keys below ours, nearest first, from a read answered by `response`. */
function predecessorOf(before: IKeyValue[], response: ITxnResponse): Predecessor {
  const nearest = before[0]!;
  return {
    key: nearest.key.toString(),
    createRevision: BigInt(nearest.create_revision),
    readRevision: BigInt(response.header.revision),
    last: before.length === 1,
  };
}

type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

type WatchOutcome = { deleted: true } | { deleted: false; refused: boolean; cause: unknown };

/** Watches etcd refuses in a row (each after a fresh read) before an acquisition gives up. */
const MAX_REFUSED_WATCHES = 5;

/** Wait before retrying after the `failures`-th failure in a row: 50 ms doubling, at most 1 s. */
function backoffMs(failures: number): number {
  return Math.min(1000, 25 * 2 ** failures);
}

function noop(): void {}

/**
 * Half-closes, then cancels. The order matters: etcd3 reports a stream error to its
 * connection pool as a host failure only while the stream is still writable, and the
 * cancellation's own CANCELLED error must not reset that member's clients.
 */
function closeWatchStream(stream: WatchStream): void {
  stream.on('error', noop);
  try {
    stream.end();
    stream.cancel();
  } catch {
    // already closed by the error that ended the wait
  }
}

/** Marks a lease released before anyone asked for its signal (see `HeldLease.signal`). */
const RELEASED: unique symbol = Symbol('released');

/** @internal */
export class HeldLease implements Lease {
  readonly #session: Session;
  readonly #keyBytes: Buffer;
  readonly #leave: () => void;
  #releasing: Promise<void> | undefined;
  // The signal is made on first use: most holders never read it, and an
  // AbortSignal.any() per acquisition is measurable on the uncontended path.
  #controller: AbortController | undefined;
  #signal: AbortSignal | undefined;
  /** Why the lease ended, when it ended before `signal` was first read. */
  #endedBy: unknown = undefined;

  constructor(
    session: Session,
    readonly key: string,
    keyBytes: Buffer,
    readonly fencingToken: bigint,
    leave: () => void,
  ) {
    this.#session = session;
    this.#keyBytes = keyBytes;
    this.#leave = leave;
  }

  get signal(): AbortSignal {
    if (this.#signal) return this.#signal;
    if (this.#endedBy !== undefined) {
      // Released already: aborted with the reason it would have had from the start.
      this.#signal = AbortSignal.abort(this.#endedBy === RELEASED ? releasedReason(this.key) : this.#endedBy);
    } else {
      this.#controller = new AbortController();
      this.#signal = AbortSignal.any([this.#session.signal, this.#controller.signal]);
    }
    return this.#signal;
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
    if (this.#controller) this.#controller.abort(releasedReason(this.key));
    else if (this.#signal === undefined) this.#endedBy = session.signal.aborted ? session.signal.reason : RELEASED;
    if (session.state !== 'alive') {
      // The lease (and with it our key) is gone already.
      this.#leave();
      return;
    }
    try {
      // One delete, nothing else: the next waiter's watch fires on it.
      await session.request('deleteRange', 'release', signal, (call) => session.client.kv.deleteRange({ key: this.#keyBytes }, call));
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

function releasedReason(key: string): DOMException {
  return new DOMException(`lock ${key} released`, 'AbortError');
}

/** @internal The end of etcd's range "every key that starts with `prefix`" (as etcd's clientv3.GetPrefixRangeEnd). */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    const byte = end[i]!;
    if (byte < 0xff) {
      end[i] = byte + 1;
      return end.subarray(0, i + 1);
    }
  }
  // Only 0xff bytes: every key from the prefix on.
  return Buffer.from([0]);
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
