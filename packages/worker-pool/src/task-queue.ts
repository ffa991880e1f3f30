// The wait queue shared by the pool and the limiter.
//
// FIFO fast path: while every queued entry has priority 0 the queue is a
// power-of-two ring buffer (O(1), no per-entry allocation beyond the entry).
// The first non-zero priority moves the queue into a binary heap keyed by
// (priority desc, sequence asc) — O(log n) per operation, FIFO among equal
// priorities — and it drops back to the ring once it is empty again.
//
// Removal of an arbitrary entry (cancellation) is lazy: the entry is flagged
// and skipped when it reaches the front, so cancelling is O(1) as well.

export interface QueueEntry {
  priority: number;
  /** Set by the queue on push; orders equal priorities first-in first-out. */
  seq: number;
  /** True while the entry is in the queue and has not been removed. */
  queued: boolean;
}

const INITIAL_CAPACITY = 16;

export class TaskQueue<T extends QueueEntry> {
  private ring: (T | undefined)[] = new Array<T | undefined>(INITIAL_CAPACITY);
  private mask = INITIAL_CAPACITY - 1;
  private head = 0;
  private ringLength = 0;

  private heapMode = false;
  private heap: T[] = [];
  /** Keys interleaved as [priority, seq] per node, so a comparison touches one cache line. */
  private heapKeys = new Float64Array(0);
  private heapLength = 0;

  private nextSeq = 0;
  private live = 0;

  /** Entries waiting (removed entries excluded). */
  get size(): number {
    return this.live;
  }

  push(entry: T): void {
    entry.seq = this.nextSeq++;
    entry.queued = true;
    this.live++;
    if (!this.heapMode) {
      if (entry.priority === 0) {
        this.ringPush(entry);
        return;
      }
      this.enterHeapMode();
    }
    this.heapPush(entry);
  }

  /** Puts an entry back at the very front (used when a worker hands back tasks it never started). */
  unshift(entry: T): void {
    entry.queued = true;
    this.live++;
    if (!this.heapMode) {
      if (this.ringLength === this.ring.length) this.grow();
      this.head = (this.head - 1) & this.mask;
      this.ring[this.head] = entry;
      this.ringLength++;
      return;
    }
    // In heap mode its original sequence number already puts it ahead of later entries of equal priority.
    this.heapPush(entry);
  }

  /** Removes and returns the next entry, or undefined when empty. */
  shift(): T | undefined {
    while (this.live > 0) {
      const entry = this.heapMode ? this.heapPop() : this.ringShift();
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
    if (this.ringLength > 0) {
      for (let i = 0; i < this.ringLength; i++) this.ring[(this.head + i) & this.mask] = undefined;
    }
    this.head = 0;
    this.ringLength = 0;
    if (this.heapLength > 0) this.heap.length = 0;
    this.heapLength = 0;
    this.heapMode = false;
  }

  private ringPush(entry: T): void {
    if (this.ringLength === this.ring.length) this.grow();
    this.ring[(this.head + this.ringLength) & this.mask] = entry;
    this.ringLength++;
  }

  private ringShift(): T | undefined {
    if (this.ringLength === 0) return undefined;
    const entry = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.ringLength--;
    return entry;
  }

  private grow(): void {
    const old = this.ring;
    const next = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.ringLength; i++) next[i] = old[(this.head + i) & this.mask];
    this.ring = next;
    this.mask = next.length - 1;
    this.head = 0;
  }

  private enterHeapMode(): void {
    this.heapMode = true;
    // Ring entries are in sequence order with priority 0: appending them keeps the heap property.
    for (let entry = this.ringShift(); entry !== undefined; entry = this.ringShift()) {
      if (entry.queued) this.heapPush(entry);
    }
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
