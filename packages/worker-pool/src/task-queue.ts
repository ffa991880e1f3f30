// The wait queue shared by the pool and the limiter.
//
// FIFO fast path: while every queued entry has priority 0 the queue is one
// power-of-two ring buffer (O(1), no per-entry allocation beyond the entry).
// The first non-zero priority switches it to buckets: one FIFO ring per
// distinct priority, and a binary max-heap of the distinct priorities (a
// Float64Array). Push and shift cost O(log k) for k distinct priorities
// (k <= n), O(1) when the priority already has a bucket; equal priorities
// keep first-in first-out order because each bucket is a ring. It drops back
// to the single ring once it is empty again.
//
// Many distinct priorities (say, deadlines as floats) would make a bucket per
// entry, so past `maxBuckets` distinct priorities the queue moves everything
// into a binary heap of entries keyed by (priority desc, sequence asc),
// O(log n) per operation, until it is empty again.
//
// Why buckets rather than one heap of entries: a heap pop walks log2(n)
// levels of a large array, and entries leave in an order unrelated to where
// they sit in memory. Buckets keep the per-priority runs sequential and the
// heap small enough to stay in cache, so the queue's own cost for random
// priorities is close to the FIFO path's.
//
// Removal of an arbitrary entry (cancellation) is lazy: the entry is flagged
// and skipped when it reaches the front, so cancelling is O(1).

export interface QueueEntry {
  priority: number;
  /** Set by the queue on push; orders equal priorities first-in first-out. */
  seq: number;
  /** True while the entry is in the queue and has not been removed. */
  queued: boolean;
}

/** Power-of-two ring buffer. */
class Ring<T> {
  private items: (T | undefined)[];
  private mask: number;
  private head = 0;
  length = 0;

  constructor(capacity: number) {
    this.items = new Array<T | undefined>(capacity);
    this.mask = capacity - 1;
  }

  push(item: T): void {
    if (this.length === this.items.length) this.grow();
    this.items[(this.head + this.length) & this.mask] = item;
    this.length++;
  }

  unshift(item: T): void {
    if (this.length === this.items.length) this.grow();
    this.head = (this.head - 1) & this.mask;
    this.items[this.head] = item;
    this.length++;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.length--;
    return item;
  }

  clear(): void {
    for (let i = 0; i < this.length; i++) this.items[(this.head + i) & this.mask] = undefined;
    this.head = 0;
    this.length = 0;
  }

  private grow(): void {
    const old = this.items;
    const next = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.length; i++) next[i] = old[(this.head + i) & this.mask];
    this.items = next;
    this.mask = next.length - 1;
    this.head = 0;
  }
}

const INITIAL_CAPACITY = 16;
const BUCKET_CAPACITY = 4;
const SPARE_BUCKETS = 64;
const DEFAULT_MAX_BUCKETS = 4096;

type Mode = 'ring' | 'buckets' | 'heap';

export class TaskQueue<T extends QueueEntry> {
  private readonly ring = new Ring<T>(INITIAL_CAPACITY);

  private mode: Mode = 'ring';
  private readonly maxBuckets: number;
  private readonly buckets = new Map<number, Ring<T>>();
  /** Empty rings kept for reuse, so priorities that come and go do not allocate. */
  private spare: Ring<T>[] = [];
  /** Binary max-heap of the priorities that have a bucket. */
  private priorities = new Float64Array(64);
  private priorityCount = 0;

  private heap: T[] = [];
  /** Keys interleaved as [priority, seq] per node, so a comparison touches one cache line. */
  private heapKeys = new Float64Array(0);
  private heapLength = 0;

  private nextSeq = 0;
  private live = 0;

  /** `maxBuckets`: distinct waiting priorities kept in buckets before switching to the heap (tests lower it). */
  constructor(options: { maxBuckets?: number } = {}) {
    this.maxBuckets = Math.max(1, options.maxBuckets ?? DEFAULT_MAX_BUCKETS);
  }

  /** Entries waiting (removed entries excluded). */
  get size(): number {
    return this.live;
  }

  push(entry: T): void {
    entry.seq = this.nextSeq++;
    entry.queued = true;
    this.live++;
    if (this.mode === 'ring') {
      if (entry.priority === 0) {
        this.ring.push(entry);
        return;
      }
      this.enterBucketMode();
    }
    if (this.mode === 'buckets') {
      const bucket = this.bucketFor(entry.priority);
      if (bucket !== undefined) {
        bucket.push(entry);
        return;
      }
    }
    this.heapPush(entry);
  }

  /**
   * Puts an entry that was shifted earlier back in front of every waiting entry of its
   * priority (used when a worker hands back tasks it never started). Several entries go
   * back in descending `seq` order, so they end up in their original order.
   */
  unshift(entry: T): void {
    entry.queued = true;
    this.live++;
    if (this.mode === 'ring') {
      if (entry.priority === 0) {
        this.ring.unshift(entry);
        return;
      }
      this.enterBucketMode();
    }
    // In the heap its original sequence number puts it ahead of later entries of equal priority.
    if (this.mode === 'buckets') {
      const bucket = this.bucketFor(entry.priority);
      if (bucket !== undefined) {
        bucket.unshift(entry);
        return;
      }
    }
    this.heapPush(entry);
  }

  /** Removes and returns the next entry, or undefined when empty. */
  shift(): T | undefined {
    while (this.live > 0) {
      const entry = this.mode === 'ring' ? this.ring.shift() : this.mode === 'buckets' ? this.bucketShift() : this.heapPop();
      if (entry === undefined) break;
      if (!entry.queued) continue; // removed earlier
      entry.queued = false;
      this.live--;
      if (this.live === 0) this.reset();
      return entry;
    }
    return undefined;
  }

  /** Removes `entry` (lazily). Returns false when it was not queued. */
  remove(entry: T): boolean {
    if (!entry.queued) return false;
    entry.queued = false;
    this.live--;
    if (this.live === 0) this.reset();
    return true;
  }

  /** Removes and returns every waiting entry in queue order. */
  drain(): T[] {
    const out: T[] = [];
    for (let entry = this.shift(); entry !== undefined; entry = this.shift()) out.push(entry);
    return out;
  }

  private reset(): void {
    // Drop lazily removed leftovers so they can be collected, and return to the FIFO path.
    if (this.ring.length > 0) this.ring.clear();
    if (this.buckets.size > 0) {
      for (const bucket of this.buckets.values()) this.retire(bucket);
      this.buckets.clear();
    }
    this.priorityCount = 0;
    if (this.heapLength > 0) this.heap.length = 0;
    this.heapLength = 0;
    this.mode = 'ring';
  }

  private enterBucketMode(): void {
    this.mode = 'buckets';
    // The ring holds priority 0 entries in sequence order: it becomes the 0 bucket as is.
    if (this.ring.length === 0) return;
    const zero = this.bucketFor(0)!; // the first bucket: maxBuckets >= 1
    for (let entry = this.ring.shift(); entry !== undefined; entry = this.ring.shift()) {
      if (entry.queued) zero.push(entry);
    }
  }

  /** Returns the bucket for `priority`, or undefined after switching to the heap. */
  private bucketFor(priority: number): Ring<T> | undefined {
    let bucket = this.buckets.get(priority);
    if (bucket === undefined) {
      if (this.priorityCount >= this.maxBuckets) {
        this.enterHeapMode();
        return undefined;
      }
      bucket = this.spare.pop() ?? new Ring<T>(BUCKET_CAPACITY);
      this.buckets.set(priority, bucket);
      this.priorityPush(priority);
    }
    return bucket;
  }

  private enterHeapMode(): void {
    this.mode = 'heap';
    // Sequence numbers carry the FIFO order, so the buckets can be poured in any order.
    for (const bucket of this.buckets.values()) {
      for (let entry = bucket.shift(); entry !== undefined; entry = bucket.shift()) {
        if (entry.queued) this.heapPush(entry);
      }
      this.retire(bucket);
    }
    this.buckets.clear();
    this.priorityCount = 0;
  }

  private retire(bucket: Ring<T>): void {
    bucket.clear();
    if (this.spare.length < SPARE_BUCKETS) this.spare.push(bucket);
  }

  private bucketShift(): T | undefined {
    while (this.priorityCount > 0) {
      const priority = this.priorities[0]!;
      const bucket = this.buckets.get(priority)!;
      const entry = bucket.shift();
      if (bucket.length === 0) {
        this.buckets.delete(priority);
        this.priorityPop();
        this.retire(bucket);
      }
      if (entry !== undefined) return entry;
    }
    return undefined;
  }

  private priorityPush(priority: number): void {
    if (this.priorityCount === this.priorities.length) {
      const grown = new Float64Array(this.priorities.length * 2);
      grown.set(this.priorities);
      this.priorities = grown;
    }
    const heap = this.priorities;
    let i = this.priorityCount++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent]!;
      if (above >= priority) break;
      heap[i] = above;
      i = parent;
    }
    heap[i] = priority;
  }

  private priorityPop(): void {
    const heap = this.priorities;
    const last = --this.priorityCount;
    if (last === 0) return;
    const moving = heap[last]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      let value = heap[child]!;
      if (child + 1 < last && heap[child + 1]! > value) {
        child++;
        value = heap[child]!;
      }
      if (moving >= value) break;
      heap[i] = value;
      i = child;
    }
    heap[i] = moving;
  }

  private heapPush(entry: T): void {
    if (2 * this.heapLength === this.heapKeys.length) {
      const keys = new Float64Array(Math.max(128, this.heapKeys.length * 2));
      keys.set(this.heapKeys);
      this.heapKeys = keys;
    }
    const heap = this.heap;
    const keys = this.heapKeys;
    const priority = entry.priority;
    const seq = entry.seq;
    // Sift up with a hole: move parents down until the new entry's place is found.
    let i = this.heapLength++;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pp = keys[2 * parent]!;
      const ps = keys[2 * parent + 1]!;
      if (pp > priority || (pp === priority && ps < seq)) break;
      heap[i] = heap[parent]!;
      keys[2 * i] = pp;
      keys[2 * i + 1] = ps;
      i = parent;
    }
    heap[i] = entry;
    keys[2 * i] = priority;
    keys[2 * i + 1] = seq;
  }

  private heapPop(): T | undefined {
    if (this.heapLength === 0) return undefined;
    const heap = this.heap;
    const keys = this.heapKeys;
    const top = heap[0];
    const last = --this.heapLength;
    const moving = heap.pop()!;
    if (last === 0) return top;
    const priority = keys[2 * last]!;
    const seq = keys[2 * last + 1]!;
    // Sift down with a hole: move the better child up until `moving` fits.
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      let cp = keys[2 * child]!;
      let cs = keys[2 * child + 1]!;
      const right = child + 1;
      if (right < last) {
        const rp = keys[2 * right]!;
        const rs = keys[2 * right + 1]!;
        if (rp > cp || (rp === cp && rs < cs)) {
          child = right;
          cp = rp;
          cs = rs;
        }
      }
      if (priority > cp || (priority === cp && seq < cs)) break;
      heap[i] = heap[child]!;
      keys[2 * i] = cp;
      keys[2 * i + 1] = cs;
      i = child;
    }
    heap[i] = moving;
    keys[2 * i] = priority;
    keys[2 * i + 1] = seq;
    return top;
  }
}
