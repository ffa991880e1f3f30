// One timer for the lease timers of every lock that shares a clock: a min-heap of
// due times, so acquiring and releasing a lease costs no setTimeout/clearTimeout.
import type { Clock } from './clock.js';

/** A scheduled call; `run` is dropped once it ran or was cancelled. */
export interface ScheduledTask {
  readonly at: number;
  run: (() => void) | undefined;
}

/**
 * Runs each task once `clock.now() >= at` (never earlier). Cancelled tasks stay in the heap
 * until they reach its top or until they outnumber the live ones (then the heap is rebuilt),
 * so cancel is O(1) and memory stays proportional to the live tasks.
 */
export class TaskScheduler {
  readonly #clock: Clock;
  #heap: ScheduledTask[] = [];
  #cancelled = 0;
  #timer: NodeJS.Timeout | undefined;
  #armedAt = Infinity;
  #armedWith: typeof setTimeout | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Live plus not yet discarded cancelled tasks (for tests). */
  get size(): number {
    return this.#heap.length;
  }

  schedule(at: number, run: () => void): ScheduledTask {
    const task: ScheduledTask = { at, run };
    const heap = this.#heap;
    heap.push(task);
    siftUp(heap, heap.length - 1);
    // Re-arm for an earlier task, or when the timer functions were swapped (fake timers in tests).
    if (at < this.#armedAt || this.#armedWith !== setTimeout) this.#arm(at);
    return task;
  }

  cancel(task: ScheduledTask): void {
    if (task.run === undefined) return;
    task.run = undefined;
    this.#cancelled++;
    if (this.#cancelled > 64 && this.#cancelled * 2 > this.#heap.length) this.#compact();
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedAt = at;
    this.#armedWith = setTimeout;
    // Whole milliseconds rounded down; #fire re-arms if the timer ran a little early.
    this.#timer = setTimeout(this.#fire, Math.max(0, Math.floor(at - this.#clock.now())));
    this.#timer.unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = this.#clock.now();
    // Read this.#heap afresh each time: a task may schedule or cancel (and so compact) while it runs.
    while (this.#heap.length > 0) {
      const top = this.#heap[0]!;
      const run = top.run;
      if (run !== undefined && top.at > now) break;
      pop(this.#heap);
      if (run === undefined) {
        this.#cancelled--;
        continue;
      }
      top.run = undefined;
      run();
    }
    this.#dropCancelledTop();
    const next = this.#heap[0];
    if (next !== undefined && next.at < this.#armedAt) this.#arm(next.at);
  };

  #dropCancelledTop(): void {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]!.run === undefined) {
      pop(heap);
      this.#cancelled--;
    }
  }

  #compact(): void {
    const live = this.#heap.filter((task) => task.run !== undefined);
    for (let i = (live.length >> 1) - 1; i >= 0; i--) siftDown(live, i);
    this.#heap = live;
    this.#cancelled = 0;
    if (live.length === 0 && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#armedAt = Infinity;
    }
  }
}

function siftUp(heap: ScheduledTask[], index: number): void {
  const task = heap[index]!;
  while (index > 0) {
    const parent = (index - 1) >> 1;
    const above = heap[parent]!;
    if (above.at <= task.at) break;
    heap[index] = above;
    index = parent;
  }
  heap[index] = task;
}

function siftDown(heap: ScheduledTask[], index: number): void {
  const task = heap[index]!;
  const n = heap.length;
  for (;;) {
    let child = 2 * index + 1;
    if (child >= n) break;
    const right = child + 1;
    if (right < n && heap[right]!.at < heap[child]!.at) child = right;
    if (heap[child]!.at >= task.at) break;
    heap[index] = heap[child]!;
    index = child;
  }
  heap[index] = task;
}

function pop(heap: ScheduledTask[]): void {
  const last = heap.pop()!;
  if (heap.length > 0) {
    heap[0] = last;
    siftDown(heap, 0);
  }
}

const schedulers = new WeakMap<Clock, TaskScheduler>();

/** The scheduler shared by every lease on `clock`. */
export function schedulerFor(clock: Clock): TaskScheduler {
  let scheduler = schedulers.get(clock);
  if (scheduler === undefined) schedulers.set(clock, (scheduler = new TaskScheduler(clock)));
  return scheduler;
}
