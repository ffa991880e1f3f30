// Synthetic histories for benchmarks and tests: concurrent clients against a
// linearizable key-value store, with random latencies and timeouts.
import type { Operation } from './history.js';
import type { KvInput, KvOutput, Value } from './models.js';
import { Random, type Seed } from './prng.js';

export interface KvHistoryOptions {
  readonly seed: Seed;
  /** Total operations. Default 10,000. */
  readonly operations?: number;
  /** Concurrent clients. Default 10. */
  readonly clients?: number;
  /** Distinct keys. Default 100. */
  readonly keys?: number;
  /** Fraction of reads. Default 0.5. */
  readonly readRatio?: number;
  /** Fraction of operations that time out ('info'; half of them still take effect). Default 0. */
  readonly infoRatio?: number;
}

/**
 * A linearizable KV history: each client runs operations back to back; each operation takes
 * effect at a random instant between its invocation and its return (1–10 time units apart).
 */
export function generateKvHistory(options: KvHistoryOptions): Operation<KvInput, KvOutput>[] {
  const random = new Random(options.seed);
  const total = options.operations ?? 10_000;
  const clients = options.clients ?? 10;
  const keys = options.keys ?? 100;
  const readRatio = options.readRatio ?? 0.5;
  const infoRatio = options.infoRatio ?? 0;
  for (const [name, v] of [['operations', total], ['clients', clients], ['keys', keys]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`generateKvHistory: ${name} must be an integer >= 1, got ${v}`);
  }
  // Plan every operation: client, invocation, effect point and return.
  interface Planned {
    client: number;
    invokedAt: number;
    effectAt: number;
    returnedAt: number;
    input: KvInput;
    info: boolean;
    takesEffect: boolean;
  }
  const planned: Planned[] = [];
  const clock = new Array<number>(clients).fill(0);
  const process = Array.from({ length: clients }, (_, i) => i);
  let nextProcess = clients;
  const processOf: number[] = [];
  let counter = 0;
  for (let i = 0; i < total; i++) {
    const client = random.int(0, clients - 1);
    const invokedAt = clock[client]! + random.between(0, 2);
    const returnedAt = invokedAt + random.between(1, 10);
    const effectAt = random.between(invokedAt, returnedAt);
    const key = `k${random.int(0, keys - 1)}`;
    const input: KvInput = random.chance(readRatio) ? { type: 'get', key } : { type: 'put', key, value: ++counter };
    const info = random.chance(infoRatio);
    planned.push({ client, invokedAt, effectAt, returnedAt, input, info, takesEffect: !info || random.chance(0.5) });
    processOf.push(process[client]!);
    if (info) process[client] = nextProcess++;
    clock[client] = returnedAt;
  }
  // Apply effects in effect order to get outputs.
  const order = planned.map((_, i) => i).sort((a, b) => planned[a]!.effectAt - planned[b]!.effectAt);
  const store = new Map<string, Value>();
  const outputs = new Array<KvOutput>(total);
  for (const i of order) {
    const p = planned[i]!;
    if (!p.takesEffect) continue;
    if (p.input.type === 'get') outputs[i] = store.get(p.input.key) ?? null;
    else if (p.input.type === 'put') {
      store.set(p.input.key, p.input.value);
      outputs[i] = null;
    }
  }
  const byInvocation = planned.map((_, i) => i).sort((a, b) => planned[a]!.invokedAt - planned[b]!.invokedAt || a - b);
  return byInvocation.map((i, id) => {
    const p = planned[i]!;
    return {
      id,
      process: processOf[i]!,
      input: p.input,
      ...(p.info ? {} : { output: outputs[i] }),
      status: p.info ? 'info' : 'ok',
      invokedAt: p.invokedAt,
      returnedAt: p.info ? Number.POSITIVE_INFINITY : p.returnedAt,
    } satisfies Operation<KvInput, KvOutput>;
  });
}
