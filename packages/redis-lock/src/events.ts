// A minimal typed event emitter: `on()` returns the unsubscribe function.

export type Listener<T> = (event: T) => void;

export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#listeners.get(event);
    if (!set || set.size === 0) return;
    // One listener (the common case) needs no snapshot of the set.
    if (set.size === 1) {
      for (const listener of set) call(listener as Listener<Events[K]>, payload);
      return;
    }
    for (const listener of [...set]) call(listener as Listener<Events[K]>, payload);
  }

  /** True when someone listens to `event` (lets callers skip building a payload). */
  has(event: keyof Events): boolean {
    const set = this.#listeners.get(event);
    return set !== undefined && set.size > 0;
  }
}

function call<T>(listener: Listener<T>, payload: T): void {
  try {
    listener(payload);
  } catch (error) {
    // A throwing listener is the caller's bug: surface it like EventEmitter
    // would, but never let it break the lock's own bookkeeping.
    queueMicrotask(() => {
      throw error;
    });
  }
}

/** Events of a lock (redis-lock and redlock share them). */
export interface LockEvents {
  acquired: { key: string; fencingToken: number; validUntil: number; attempts: number };
  extended: { key: string; fencingToken: number; validUntil: number; automatic: boolean };
  /** An extension failed without losing the lock yet (store unavailable); another try follows if time allows. */
  extendFailed: { key: string; fencingToken: number; error: Error };
  /** The lease's signal aborted because the lock was lost or expired. */
  lost: { key: string; fencingToken: number; error: Error };
  released: { key: string; fencingToken: number; deleted: boolean };
  /** Releasing failed (store unavailable); the lock expires by itself at the end of its TTL. */
  releaseFailed: { key: string; fencingToken: number; error: Error };
}
