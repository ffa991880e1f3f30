// Simulated stable storage with explicit sync. Writes are visible to the node
// at once but only become durable on sync(); a crash throws away what was not
// synced (optionally keeping a random prefix of it, the last piece torn), the
// way a real disk with a page cache behaves under power loss.
import type { Random } from './prng.js';

/** File content: bytes, or text for tests that do not care about encoding. */
export type StorageData = Uint8Array | string;

/** What a node may do with its disk. The consensus packages implement their WAL against this. */
export interface SimStorage {
  /** Current content (including unsynced writes), or undefined. Bytes are returned as a copy. */
  read(key: string): StorageData | undefined;
  /** Replace the whole content of `key`. Not durable until sync. */
  write(key: string, data: StorageData): void;
  /** Append to `key` (created if missing). Must be the same kind (bytes or text) as the existing content. */
  append(key: string, data: StorageData): void;
  /** Remove `key`. Not durable until sync. */
  delete(key: string): void;
  /** Keys that currently exist, sorted. */
  keys(): string[];
  /** Make every earlier write durable (fsync); with a key, only that key's writes (fsync of one file). */
  sync(key?: string): void;
  /** How many writes would be lost by a crash now. */
  readonly unsyncedWrites: number;
}

/**
 * What a crash does to unsynced writes:
 * - `'lose-unsynced'`: all of them are lost (the default);
 * - `'keep-prefix'`: a random prefix of them (in issue order) reached the disk;
 * - `'torn'`: like `'keep-prefix'`, and the first lost write may have been partly applied.
 */
export type CrashMode = 'lose-unsynced' | 'keep-prefix' | 'torn';
export const CRASH_MODES: readonly CrashMode[] = ['lose-unsynced', 'keep-prefix', 'torn'];

interface PendingWrite {
  readonly kind: 'write' | 'append' | 'delete';
  readonly key: string;
  readonly data: StorageData | undefined;
}

export interface CrashReport {
  readonly kept: number;
  readonly lost: number;
  /** Key whose last surviving write was torn, if any. */
  readonly tornKey: string | undefined;
}

function copy(data: StorageData): StorageData {
  return typeof data === 'string' ? data : data.slice();
}

function concat(a: StorageData, b: StorageData, key: string): StorageData {
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (typeof a !== 'string' && typeof b !== 'string') {
    const out = new Uint8Array(a.length + b.length);
    out.set(a, 0);
    out.set(b, a.length);
    return out;
  }
  throw new TypeError(`storage key ${JSON.stringify(key)}: cannot append ${typeof b === 'string' ? 'text' : 'bytes'} to ${typeof a === 'string' ? 'text' : 'bytes'}`);
}

function apply(files: Map<string, StorageData>, w: PendingWrite): void {
  if (w.kind === 'delete') files.delete(w.key);
  else if (w.kind === 'write') files.set(w.key, w.data!);
  else {
    const existing = files.get(w.key);
    files.set(w.key, existing === undefined ? w.data! : concat(existing, w.data!, w.key));
  }
}

/** In-memory disk of one simulated node; the simulator owns it and crashes it. */
export class SimulatedDisk implements SimStorage {
  readonly #durable = new Map<string, StorageData>();
  #visible = new Map<string, StorageData>();
  #pending: PendingWrite[] = [];
  #syncs = 0;

  get unsyncedWrites(): number {
    return this.#pending.length;
  }

  /** Number of sync() calls so far (for stats). */
  get syncCount(): number {
    return this.#syncs;
  }

  read(key: string): StorageData | undefined {
    const data = this.#visible.get(key);
    return data === undefined ? undefined : copy(data);
  }

  write(key: string, data: StorageData): void {
    this.#record({ kind: 'write', key, data: copy(checkData(data, key)) });
  }

  append(key: string, data: StorageData): void {
    this.#record({ kind: 'append', key, data: copy(checkData(data, key)) });
  }

  delete(key: string): void {
    this.#record({ kind: 'delete', key, data: undefined });
  }

  keys(): string[] {
    return [...this.#visible.keys()].sort();
  }

  sync(key?: string): void {
    this.#syncs++;
    if (key === undefined) {
      for (const w of this.#pending) apply(this.#durable, w);
      this.#pending = [];
      return;
    }
    const rest: PendingWrite[] = [];
    for (const w of this.#pending) {
      if (w.key === key) apply(this.#durable, w);
      else rest.push(w);
    }
    this.#pending = rest;
  }

  /** Durable content only (what a crash now would leave, in `'lose-unsynced'` mode). */
  durableSnapshot(): Map<string, StorageData> {
    return new Map([...this.#durable].map(([k, v]) => [k, copy(v)]));
  }

  /** Simulate power loss: decide which unsynced writes survive, then reset the visible state to disk. */
  crash(mode: CrashMode, random: Random): CrashReport {
    const pending = this.#pending;
    let kept = 0;
    let tornKey: string | undefined;
    if (mode !== 'lose-unsynced' && pending.length > 0) {
      kept = random.int(0, pending.length);
      for (let i = 0; i < kept; i++) apply(this.#durable, pending[i]!);
      const next = pending[kept];
      if (mode === 'torn' && next !== undefined && next.data !== undefined && dataLength(next.data) > 1 && random.chance(0.5)) {
        const cut = random.int(1, dataLength(next.data) - 1);
        apply(this.#durable, { ...next, data: next.data.slice(0, cut) });
        tornKey = next.key;
      }
    }
    const lost = pending.length - kept;
    this.#pending = [];
    this.#visible = new Map([...this.#durable].map(([k, v]) => [k, copy(v)]));
    return { kept, lost, tornKey };
  }

  #record(w: PendingWrite): void {
    this.#pending.push(w);
    apply(this.#visible, w.data === undefined ? w : { ...w, data: copy(w.data) });
  }
}

function dataLength(data: StorageData): number {
  return data.length;
}

function checkData(data: StorageData, key: string): StorageData {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new TypeError(`storage key ${JSON.stringify(key)}: data must be a Uint8Array or a string`);
  }
  return data;
}
