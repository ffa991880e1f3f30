/** A minimal typed event emitter: `on` returns its own unsubscribe function. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- listener signatures vary per event
export class TypedEvents<Events extends { [K in keyof Events]: (...args: any[]) => void }> {
  readonly #listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        // A throwing listener must not break the session's bookkeeping; surface it
        // the way Node surfaces errors nobody handles.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
