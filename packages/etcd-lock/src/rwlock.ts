import { EtcdMutex, validateQueue, type Mutex } from './mutex.js';
import type { Session } from './session.js';

/** A readers-writer lock: `read` is shared, `write` exclusive; both are served in arrival order. */
export interface RwLock {
  readonly prefix: string;
  readonly session: Session;
  /**
   * Shared side. Waits only for writers that arrived earlier, so readers overlap while a
   * writer that arrived before them still goes first (writers do not starve).
   * `tryAcquire()` fails with `LockHeldError` when an earlier writer holds or waits;
   * `holder()` is that writer.
   */
  readonly read: Mutex;
  /** Exclusive side. Waits for every earlier reader and writer. `holder()` is the oldest key of either kind. */
  readonly write: Mutex;
}

/**
 * A readers-writer lock on etcd (the shape of etcd's Go `recipes.RWMutex`): readers queue
 * as `<prefix>/r/<lease id>-<n>`, writers as `<prefix>/w/<lease id>-<n>` (`n` new for
 * every acquisition), all ordered by create revision. A reader watches the nearest
 * *writer* before it; a writer watches the nearest key of either kind. A session holds at
 * most one read and one write key per prefix at a time; asking for the write side while
 * holding the read side waits for itself forever.
 */
export function rwlock(session: Session, prefix: string): RwLock {
  validateQueue(session, prefix);
  return {
    prefix,
    session,
    read: new EtcdMutex(session, prefix, `${prefix}/r/`, `${prefix}/w/`),
    write: new EtcdMutex(session, prefix, `${prefix}/w/`, `${prefix}/`),
  };
}
