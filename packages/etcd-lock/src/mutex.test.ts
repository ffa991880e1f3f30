import type { Etcd3, IDeleteRangeRequest, IRangeRequest, IRequestOp, ITxnRequest } from 'etcd3';
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isLockHeldError, isSessionExpiredError, isStoreUnavailableError } from './errors.js';
import type { LeaseBackend } from './lease-backend.js';
import { mutex, prefixRangeEnd } from './mutex.js';
import { rwlock } from './rwlock.js';
import { openSessionWithBackend, type Session } from './session.js';

// Lease 4096 = 0x1000: keys are `<prefix>/1000-<n>`, n = 1, 2, … per acquisition.
const backend: LeaseBackend = {
  grant: (ttlSeconds) => Promise.resolve({ id: '4096', ttlSeconds }),
  keepAlive: () => Promise.resolve(10),
  revoke: () => Promise.resolve(),
};

interface Call {
  method: 'txn' | 'deleteRange';
  request: ITxnRequest | IDeleteRangeRequest;
  options: unknown;
}

/** A client whose `kv` records every request and answers as an etcd on which our key is the only one. */
function recordingClient(revision = 7) {
  const calls: Call[] = [];
  const kv = {
    txn(request: ITxnRequest, options: unknown) {
      calls.push({ method: 'txn', request, options });
      const put = request.success?.[0]?.request_put;
      const own = put && { key: put.key, value: put.value, create_revision: String(revision), lease: '4096' };
      return Promise.resolve({
        header: { revision: String(revision) },
        succeeded: true,
        responses: [{ response_put: {} }, { response_range: { kvs: [own] } }, { response_range: { kvs: [own] } }],
      });
    },
    deleteRange(request: IDeleteRangeRequest, options: unknown) {
      calls.push({ method: 'deleteRange', request, options });
      return Promise.resolve({ header: { revision: String(revision + 1) }, deleted: '1' });
    },
  };
  return { client: { leaseClient: {}, kv } as unknown as Etcd3, calls };
}

const sessions: Session[] = [];

async function open(client: Etcd3): Promise<Session> {
  const session = await openSessionWithBackend({ client, holderId: 'me' }, backend);
  sessions.push(session);
  return session;
}

afterEach(async () => {
  await Promise.allSettled(sessions.splice(0).map((s) => s.close()));
});

describe('prefixRangeEnd', () => {
  it('is the prefix with its last byte below 0xff incremented (etcd clientv3.GetPrefixRangeEnd)', () => {
    expect(prefixRangeEnd(Buffer.from('locks/a/')).toString()).toBe('locks/a0');
    expect([...prefixRangeEnd(Buffer.from([0x61, 0xff, 0xff]))]).toEqual([0x62]);
    expect([...prefixRangeEnd(Buffer.from([0xff, 0xff]))]).toEqual([0]);
  });

  it('does not modify the prefix it is given', () => {
    const prefix = Buffer.from('p/');
    prefixRangeEnd(prefix);
    expect(prefix.toString()).toBe('p/');
  });
});

describe('requests on the uncontended path', () => {
  it('acquire is one Txn (create our key on the lease, read the owner and the newest keys); release is one DeleteRange of that key', async () => {
    const { client, calls } = recordingClient(7);
    const session = await open(client);
    const lease = await mutex(session, 'locks/a').acquire();
    expect(lease.fencingToken).toBe(7n);
    expect(lease.key).toBe('locks/a/1000-1');
    expect(calls).toHaveLength(1);
    const { method, request, options } = calls[0]!;
    expect(method).toBe('txn');
    const txn = request as ITxnRequest;
    expect(txn.compare).toEqual([{ key: Buffer.from('locks/a/1000-1'), target: 'Create', result: 'Equal', create_revision: 0 }]);
    const range = { key: Buffer.from('locks/a/'), range_end: Buffer.from('locks/a0'), sort_target: 'Create' };
    expect(txn.success).toEqual([
      { request_put: { key: Buffer.from('locks/a/1000-1'), value: Buffer.from('me'), lease: '4096' } },
      { request_range: { ...range, sort_order: 'Ascend', limit: 1 } },
      { request_range: { ...range, sort_order: 'Descend', limit: 3 } },
    ]);
    // A retried Txn that finds our key already there reads it and the owner instead.
    expect(txn.failure).toEqual([
      { request_range: { key: Buffer.from('locks/a/1000-1') } },
      { request_range: { ...range, sort_order: 'Ascend', limit: 1 } },
    ]);
    expect(options).toEqual({ deadline: expect.any(Number) as number });

    await lease.release();
    expect(calls.map((c) => c.method)).toEqual(['txn', 'deleteRange']);
    expect(calls[1]!.request).toEqual({ key: Buffer.from('locks/a/1000-1') });
    expect(session.stats().rpcs).toMatchObject({ txn: 1, deleteRange: 1, range: 0, watch: 0 });

    // Every acquisition of the session gets a key of its own (the counter is hex).
    for (let i = 0; i < 15; i++) await (await mutex(session, 'locks/a').acquire()).release();
    expect(calls.at(-1)!.request).toEqual({ key: Buffer.from('locks/a/1000-10') });
  });

  it("a reader's Txn reads only writers; a writer's reads both queues", async () => {
    const { client, calls } = recordingClient();
    const session = await open(client);
    const lock = rwlock(session, 'rw');
    await (await lock.read.acquire()).release();
    await (await lock.write.acquire()).release();
    const [read, , write] = calls.map((c) => c.request as ITxnRequest);
    expect(read!.success![0]!.request_put!.key).toEqual(Buffer.from('rw/r/1000-1'));
    expect(read!.success![1]!.request_range).toMatchObject({ key: Buffer.from('rw/w/'), range_end: Buffer.from('rw/w0') });
    expect(write!.success![0]!.request_put!.key).toEqual(Buffer.from('rw/w/1000-2'));
    expect(write!.success![1]!.request_range).toMatchObject({ key: Buffer.from('rw/'), range_end: Buffer.from('rw0') });
  });

  it('an already-aborted signal or an ended session rejects before any etcd call', async () => {
    const { client, calls } = recordingClient();
    const session = await open(client);
    const reason = new Error('gave up');
    await expect(mutex(session, 'locks/b').acquire({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await session.close();
    await expect(mutex(session, 'locks/b').acquire()).rejects.toSatisfy(isSessionExpiredError);
    expect(calls).toEqual([]);
  });
});

describe('Lease.signal (made on first use)', () => {
  it('read while held: aborts on release with an AbortError', async () => {
    const session = await open(recordingClient().client);
    const lease = await mutex(session, 'locks/c').acquire();
    const { signal } = lease;
    expect(signal.aborted).toBe(false);
    expect(lease.signal).toBe(signal);
    await lease.release();
    expect(signal.aborted).toBe(true);
    expect((signal.reason as DOMException).name).toBe('AbortError');
  });

  it('first read after release: already aborted, with the same AbortError reason', async () => {
    const session = await open(recordingClient().client);
    const lease = await mutex(session, 'locks/d').acquire();
    await lease.release();
    expect(lease.signal.aborted).toBe(true);
    expect((lease.signal.reason as DOMException).name).toBe('AbortError');
    expect(String((lease.signal.reason as DOMException).message)).toContain('locks/d/1000-1');
  });

  it('first read after the session ended: aborted with the SessionExpiredError, also once released later', async () => {
    const { client, calls } = recordingClient();
    const session = await open(client);
    const lease = await mutex(session, 'locks/e').acquire();
    await session.close();
    expect(lease.signal.aborted).toBe(true);
    expect(lease.signal.reason).toBe(session.signal.reason);
    await lease.release(); // a no-op: the lease took our key with it
    expect(lease.signal.reason).toBe(session.signal.reason);
    expect(calls.map((c) => c.method)).toEqual(['txn']);
  });

  it('session ended before release, signal first read after both: the session is still the reason', async () => {
    const session = await open(recordingClient().client);
    const lease = await mutex(session, 'locks/f').acquire();
    await session.close();
    await lease.release();
    expect(isSessionExpiredError(lease.signal.reason)).toBe(true);
  });

  it('released before the session ended, signal first read after both: the release is the reason', async () => {
    const session = await open(recordingClient().client);
    const lease = await mutex(session, 'locks/g').acquire();
    await lease.release();
    await session.close();
    expect((lease.signal.reason as DOMException).name).toBe('AbortError');
  });
});

/** A fake watch stream: records what is written and how it is closed; the test plays etcd's answers. */
class FakeWatchStream extends EventEmitter {
  readonly written: unknown[] = [];
  readonly closing: string[] = [];
  write(request: unknown): void {
    this.written.push(request);
  }
  end(): void {
    this.closing.push('end');
  }
  cancel(): void {
    this.closing.push('cancel');
  }
  created(revision: number): void {
    this.emit('data', { header: { revision: String(revision) }, created: true, canceled: false, events: [] });
  }
  deleted(key: string, modRevision: number): void {
    const kv = { key: Buffer.from(key), mod_revision: String(modRevision), create_revision: '0' };
    this.emit('data', { header: { revision: String(modRevision) }, created: false, canceled: false, events: [{ type: 'Delete', kv }] });
  }
}

/**
 * etcd as a waiter sees it: key `q/1000` (ours) created at revision 20 behind `q/ffff`
 * (created at 10); our Txn answered at revision 20. `predecessor` is what a later point
 * read of `q/ffff` returns; `reads` what the "read predecessor" Txn returns.
 */
function waiterClient(
  options: { predecessor?: { create_revision: string } | undefined; reads?: (IKeyValueLike[] | Error)[]; refuseWatches?: boolean } = {},
) {
  const theirs = { key: Buffer.from('q/ffff'), value: Buffer.from('them'), create_revision: '10', lease: '65535' };
  const ours = { key: Buffer.from('q/1000'), value: Buffer.from('me'), create_revision: '20', lease: '4096' };
  const calls: string[] = [];
  const streams: FakeWatchStream[] = [];
  const reads = options.reads ?? [];
  const kv = {
    txn(request: ITxnRequest) {
      if (request.success?.[0]?.request_put) {
        calls.push('txn create');
        return Promise.resolve({
          header: { revision: '20' },
          succeeded: true,
          responses: [{ response_put: {} }, { response_range: { kvs: [theirs] } }, { response_range: { kvs: [ours, theirs] } }],
        });
      }
      calls.push('txn read predecessor');
      const read = reads.shift() ?? (options.refuseWatches ? [theirs] : []);
      if (read instanceof Error) return Promise.reject(read);
      return Promise.resolve({ header: { revision: '30' }, succeeded: true, responses: [{ response_range: { kvs: read } }] });
    },
    range(request: { key: Buffer }) {
      calls.push(`range ${request.key.toString()}`);
      const kv = options.predecessor && { ...theirs, ...options.predecessor };
      return Promise.resolve({ header: { revision: '25' }, kvs: kv ? [kv] : [], count: kv ? '1' : '0' });
    },
    deleteRange() {
      calls.push('deleteRange');
      return Promise.resolve({ header: { revision: '40' }, deleted: '1' });
    },
  };
  const watchClient = {
    watch() {
      calls.push('watch');
      const stream = new FakeWatchStream();
      if (options.refuseWatches) {
        stream.write = (request: unknown) => {
          stream.written.push(request);
          queueMicrotask(() => stream.emit('data', { header: { revision: '30' }, created: true, canceled: true, cancel_reason: 'compacted', events: [] }));
        };
      }
      streams.push(stream);
      return Promise.resolve(stream);
    },
  };
  return { client: { leaseClient: {}, kv, watchClient } as unknown as Etcd3, calls, streams };
}

type IKeyValueLike = { key: Buffer; value: Buffer; create_revision: string; lease: string };

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(condition()).toBe(true);
}

describe('waiting for the predecessor (fake etcd)', () => {
  it('watches only deletions of the predecessor from "now", on a stream of its own, closed (end, then cancel) once it fired', async () => {
    const { client, calls, streams } = waiterClient();
    const acquiring = mutex(await open(client), 'q').acquire();
    await until(() => streams.length === 1);
    const [stream] = streams;
    expect(stream!.written).toEqual([{ create_request: { key: Buffer.from('q/ffff'), filters: ['Noput'] } }]);
    stream!.created(20); // nothing written since our Txn: every later deletion will come
    stream!.deleted('q/ffff', 21);
    const lease = await acquiring;
    expect(lease.fencingToken).toBe(20n);
    // It was the only key below ours: no read after its deletion.
    expect(calls).toEqual(['txn create', 'watch']);
    expect(stream!.closing).toEqual(['end', 'cancel']);
    await lease.release();
  });

  it('ignores a deletion of an earlier incarnation of the key (at or before our read)', async () => {
    const { client, streams } = waiterClient();
    let held = false;
    const acquiring = mutex(await open(client), 'q')
      .acquire()
      .then((lease) => ((held = true), lease));
    await until(() => streams.length === 1);
    streams[0]!.created(15); // this member was behind our Txn's: it sends from 16 on
    streams[0]!.deleted('q/ffff', 18);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(held).toBe(false);
    streams[0]!.deleted('q/ffff', 22);
    await (await acquiring).release();
  });

  it('when the watch starts after our read, one point read finds a deletion it would not replay', async () => {
    const { client, calls, streams } = waiterClient({ predecessor: undefined });
    const acquiring = mutex(await open(client), 'q').acquire();
    await until(() => streams.length === 1);
    streams[0]!.created(24); // revisions 21..24 happened before the watch: not sent
    const lease = await acquiring;
    expect(calls).toEqual(['txn create', 'watch', 'range q/ffff']);
    await lease.release();
  });

  it('a predecessor key re-created since our read (other create revision) counts as deleted', async () => {
    const { client, calls, streams } = waiterClient({ predecessor: { create_revision: '23' } });
    const acquiring = mutex(await open(client), 'q').acquire();
    await until(() => streams.length === 1);
    streams[0]!.created(24);
    await (await acquiring).release();
    expect(calls.slice(0, 3)).toEqual(['txn create', 'watch', 'range q/ffff']);
  });

  it('the same predecessor still there after the point read: waits for its deletion event', async () => {
    const { client, streams } = waiterClient({ predecessor: { create_revision: '10' } });
    let held = false;
    const acquiring = mutex(await open(client), 'q')
      .acquire()
      .then((lease) => ((held = true), lease));
    await until(() => streams.length === 1);
    streams[0]!.created(24);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(held).toBe(false);
    streams[0]!.deleted('q/ffff', 26);
    await (await acquiring).release();
  });

  it('a failed watch stream is closed, then the predecessor read again and watched again', async () => {
    const { client, calls, streams } = waiterClient({ reads: [[]] });
    const acquiring = mutex(await open(client), 'q').acquire();
    await until(() => streams.length === 1);
    streams[0]!.emit('error', new Error('member went away'));
    // The read finds no key below ours any more: we hold the lock.
    const lease = await acquiring;
    expect(calls).toEqual(['txn create', 'watch', 'txn read predecessor']);
    expect(streams[0]!.closing).toEqual(['end', 'cancel']);
    await lease.release();
  });

  it('after a lost watch stream, a failing read is retried rather than ending the wait (the outage is ridden out)', async () => {
    const { client, calls, streams } = waiterClient({ reads: [new Error('UNAVAILABLE'), []] });
    const acquiring = mutex(await open(client), 'q').acquire();
    await until(() => streams.length === 1);
    streams[0]!.emit('error', new Error('member went away'));
    const lease = await acquiring;
    expect(calls).toEqual(['txn create', 'watch', 'txn read predecessor', 'txn read predecessor']);
    await lease.release();
  });

  it('gives up with StoreUnavailableError after 5 refused watches in a row, and removes its key', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { client, calls, streams } = waiterClient({ refuseWatches: true });
      const acquiring = mutex(await open(client), 'q').acquire();
      acquiring.catch(() => undefined);
      for (let i = 0; i < 20 && streams.length < 5; i++) await vi.advanceTimersByTimeAsync(1000);
      await expect(acquiring).rejects.toSatisfy(isStoreUnavailableError);
      expect(streams).toHaveLength(5);
      expect(streams.every((stream) => stream.closing.join() === 'end,cancel')).toBe(true);
      await vi.advanceTimersByTimeAsync(0);
      expect(calls.at(-1)).toBe('deleteRange');
    } finally {
      vi.useRealTimers();
    }
  });
});

/**
 * A small in-memory etcd (one revision counter, keys with create revisions and leases)
 * that serves `kv.txn` and `kv.deleteRange` as etcd would, enough for acquire, tryAcquire
 * and release. `lose(n)` makes the next `n` writes fail on the client's side (deadline
 * exceeded) while etcd has not applied them yet; `land()` applies them later, as a
 * request that raft committed after its client gave up.
 */
function memoryEtcd() {
  interface Entry {
    value: Buffer;
    create_revision: string;
    mod_revision: string;
    lease: string;
  }
  const store = new Map<string, Entry>();
  let revision = 1;
  let toLose = 0;
  const lost: (() => void)[] = [];
  const header = () => ({ revision: String(revision) });
  const kvOf = (key: string, entry: Entry) => ({ key: Buffer.from(key), ...entry });
  const inRange = (request: IRangeRequest, key: string): boolean => {
    const start = String(request.key);
    if (!request.range_end) return key === start;
    return key >= start && key < String(request.range_end);
  };
  const range = (request: IRangeRequest) => {
    let kvs = [...store.entries()]
      .filter(([key]) => inRange(request, key))
      .map(([key, entry]) => kvOf(key, entry))
      .filter((kv) => request.max_create_revision === undefined || BigInt(kv.create_revision) <= BigInt(request.max_create_revision));
    if (request.sort_target === 'Create') {
      const sign = request.sort_order === 'Descend' ? -1 : 1;
      kvs.sort((a, b) => sign * Number(BigInt(a.create_revision) - BigInt(b.create_revision)));
    }
    if (request.limit) kvs = kvs.slice(0, Number(request.limit));
    return { kvs, count: String(kvs.length) };
  };
  const deleteKey = (key: string): string => {
    if (!store.delete(key)) return '0';
    revision++;
    return '1';
  };
  const apply = (op: IRequestOp, wrote: { put: boolean }) => {
    if (op.request_put) {
      const key = String(op.request_put.key);
      if (!wrote.put) revision++; // one Txn is one revision
      wrote.put = true;
      const rev = String(revision);
      store.set(key, { value: Buffer.from(op.request_put.value!), create_revision: store.get(key)?.create_revision ?? rev, mod_revision: rev, lease: String(op.request_put.lease) });
      return { response_put: { header: header() } };
    }
    if (op.request_delete_range) {
      const deleted = store.has(String(op.request_delete_range.key)) ? '1' : '0';
      store.delete(String(op.request_delete_range.key));
      if (deleted === '1' && !wrote.put) revision++;
      wrote.put ||= deleted === '1';
      return { response_delete_range: { header: header(), deleted } };
    }
    return { response_range: { header: header(), ...range(op.request_range!) } };
  };
  const write = <T>(applyNow: () => T): Promise<T> => {
    if (toLose > 0) {
      toLose--;
      lost.push(() => void applyNow());
      return Promise.reject(Object.assign(new Error('4 DEADLINE_EXCEEDED: Deadline exceeded'), { code: 4 }));
    }
    return Promise.resolve(applyNow());
  };
  const kv = {
    txn(request: ITxnRequest) {
      return write(() => {
        const succeeded = (request.compare ?? []).every((c) => String(store.get(String(c.key))?.create_revision ?? '0') === String(c.create_revision));
        const wrote = { put: false };
        const responses = ((succeeded ? request.success : request.failure) ?? []).map((op) => apply(op, wrote));
        return { header: header(), succeeded, responses };
      });
    },
    deleteRange(request: IDeleteRangeRequest) {
      const key = String(request.key);
      return write(() => ({ header: header(), deleted: deleteKey(key) }));
    },
  };
  return {
    client: { leaseClient: {}, kv } as unknown as Etcd3,
    store,
    /** The next `n` writes time out on the client; etcd applies them only on `land()`. */
    lose(n = 1) {
      toLose = n;
    },
    /** etcd applies the lost writes now, long after their clients gave up. */
    land() {
      for (const late of lost.splice(0)) late();
    },
  };
}

async function openWithLease(client: Etcd3, id: string): Promise<Session> {
  const session = await openSessionWithBackend({ client, holderId: `holder ${id}` }, { ...backend, grant: (ttlSeconds) => Promise.resolve({ id, ttlSeconds }) });
  sessions.push(session);
  return session;
}

describe('writes that commit after their client gave up (fake etcd)', () => {
  it("a release's delete that lands late cannot remove the key of the session's next acquisition of that lock", async () => {
    const etcd = memoryEtcd();
    const a = await openWithLease(etcd.client, '4096');
    const b = await openWithLease(etcd.client, '8192');
    const lock = mutex(a, 'q');

    const first = await lock.acquire();
    etcd.lose(); // release's DeleteRange times out on our side; etcd commits it later
    await expect(first.release()).rejects.toSatisfy(isStoreUnavailableError);
    // The background removal (same session) succeeds, which lets the next acquisition in.
    const second = await lock.acquire();
    expect(etcd.store.get(second.key)?.create_revision).toBe(String(second.fencingToken));

    etcd.land(); // the late delete of the first acquisition's key
    // The lock is still ours: another session cannot take it (with one key name per
    // session and lock, the late delete removed our new key and B got the lock too).
    const error: unknown = await mutex(b, 'q').tryAcquire().catch((e: unknown) => e);
    expect(isLockHeldError(error) && error.holder).toMatchObject({ key: second.key, leaseId: '1000', fencingToken: second.fencingToken });
    expect(etcd.store.get(second.key)?.create_revision).toBe(String(second.fencingToken));
    expect(second.key).not.toBe(first.key);
    await second.release();
    await (await mutex(b, 'q').tryAcquire()).release();
  });

  it('a waiter key whose Txn lands after the failed acquisition removed it is deleted by the next acquisition, not queued behind', async () => {
    const etcd = memoryEtcd();
    const a = await openWithLease(etcd.client, '4096');
    const lock = mutex(a, 'q');

    etcd.lose(); // the acquisition's Txn times out on our side; etcd commits it later
    await expect(lock.acquire()).rejects.toSatisfy(isStoreUnavailableError);
    await until(() => a.stats().rpcs.deleteRange === 1); // the background removal found nothing
    etcd.land();
    expect([...etcd.store.keys()]).toEqual(['q/1000-1']); // a key nobody will release

    // Waits (locally) for the removal, then holds at once: not queued behind our own stale key.
    const lease = await lock.acquire();
    expect(lease.key).toBe('q/1000-2');
    expect(a.stats().rpcs.watch).toBe(0);
    expect([...etcd.store.keys()]).toEqual(['q/1000-2']);
    await lease.release();
    // Once a delete found it, later acquisitions no longer carry it.
    await (await lock.acquire()).release();
    expect(a.stats().rpcs).toMatchObject({ txn: 3, deleteRange: 3 });
    expect(etcd.store.size).toBe(0);
  });
});
