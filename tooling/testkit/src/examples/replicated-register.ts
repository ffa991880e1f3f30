// Demonstration targets for the simulator and the checker: registers that
// clients read, write and compare-and-set over the simulated network.
//
// - createSingleNodeRegister(): one node, group commit through a write-ahead
//   log, replies only after fsync, duplicate requests filtered. Linearizable.
// - createSingleNodeRegister({ ackBeforeSync: true }): replies before fsync, so
//   a crash loses acknowledged writes. Not linearizable under crashes.
// - createBrokenReplicatedRegister(): a primary applies writes and replicates
//   asynchronously; reads are served by whichever replica the client asks.
//   Stale reads: not linearizable even without faults.
import type { RegisterInput, RegisterOutput, Value } from '../models.js';
import type { Random } from '../prng.js';
import type { NodeContext, NodeSpec, SimNode, Workload } from '../simulation.js';

export type RegisterMessage =
  | { readonly kind: 'request'; readonly requestId: number; readonly client: string; readonly op: RegisterInput }
  | { readonly kind: 'reply'; readonly requestId: number; readonly output: RegisterOutput }
  | { readonly kind: 'replicate'; readonly version: number; readonly value: Value };

function apply(value: Value, op: RegisterInput): { value: Value; output: RegisterOutput } {
  switch (op.type) {
    case 'read':
      return { value, output: value };
    case 'write':
      return { value: op.value, output: null };
    case 'cas':
      return value === op.expected ? { value: op.value, output: true } : { value, output: false };
  }
}

interface Durable {
  value: Value;
  /** Per client: highest request id applied and its reply (duplicates get the same reply). */
  applied: Record<string, { requestId: number; output: RegisterOutput }>;
}

const WAL = 'register.wal';

/** Last complete record of the write-ahead log; a torn or partial last line is ignored. */
function recover(ctx: NodeContext<RegisterMessage>): Durable {
  const raw = ctx.storage.read(WAL);
  const text = typeof raw === 'string' ? raw : raw === undefined ? '' : new TextDecoder().decode(raw);
  let state: Durable = { value: null, applied: {} };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      state = JSON.parse(line) as Durable;
    } catch {
      break; // torn tail: everything after it was never acknowledged
    }
  }
  return state;
}

export interface SingleNodeRegisterOptions {
  /** The bug to demonstrate: reply before the write-ahead log is synced. Default false. */
  readonly ackBeforeSync?: boolean;
  /** Group commit interval (local ms). Default 2. */
  readonly commitEveryMs?: number;
  /** Node id. Default 'n1'. */
  readonly id?: string;
}

/** One register node that persists through a write-ahead log with group commit. */
export function createSingleNodeRegister(options: SingleNodeRegisterOptions = {}): NodeSpec<RegisterMessage> {
  const ackBeforeSync = options.ackBeforeSync ?? false;
  let state: Durable = { value: null, applied: {} };
  let dirty = false;
  let waiting: { to: string; message: RegisterMessage }[] = [];

  const node: SimNode<RegisterMessage> = {
    onStart(ctx) {
      state = recover(ctx);
    },
    onRestart(ctx) {
      state = recover(ctx);
    },
    onCrash() {
      state = { value: null, applied: {} };
      waiting = [];
      dirty = false;
    },
    onMessage(ctx, from, message) {
      if (message.kind !== 'request') return;
      const last = state.applied[message.client];
      if (last && message.requestId < last.requestId) return; // an old duplicate: its client gave up on it
      let output: RegisterOutput;
      if (last && message.requestId === last.requestId) output = last.output; // duplicate: same answer
      else {
        const result = apply(state.value, message.op);
        output = result.output;
        if (message.op.type !== 'read') {
          state = { value: result.value, applied: { ...state.applied, [message.client]: { requestId: message.requestId, output } } };
          dirty = true;
        }
      }
      const reply: RegisterMessage = { kind: 'reply', requestId: message.requestId, output };
      // A read must also wait for the commit: it may observe a write that is not durable yet.
      if (ackBeforeSync) ctx.send(from, reply);
      else waiting.push({ to: from, message: reply });
    },
    onTick(ctx) {
      if (dirty) {
        ctx.storage.append(WAL, `${JSON.stringify(state)}\n`);
        ctx.storage.sync();
        dirty = false;
      }
      const replies = waiting;
      waiting = [];
      for (const r of replies) ctx.send(r.to, r.message);
    },
  };
  return { id: options.id ?? 'n1', node, tickMs: options.commitEveryMs ?? 2 };
}

/** Primary n1 takes writes and replicates asynchronously to the others; any replica answers reads. */
export function createBrokenReplicatedRegister(options: { readonly replicas?: number } = {}): NodeSpec<RegisterMessage>[] {
  const count = options.replicas ?? 3;
  if (!(Number.isInteger(count) && count >= 2)) throw new RangeError(`replicas must be an integer >= 2, got ${count}`);
  const ids = Array.from({ length: count }, (_, i) => `n${i + 1}`);
  return ids.map((id) => {
    let value: Value = null;
    let version = 0;
    const node: SimNode<RegisterMessage> = {
      onMessage(ctx, from, message) {
        if (message.kind === 'replicate') {
          if (message.version > version) {
            version = message.version;
            value = message.value;
          }
          return;
        }
        if (message.kind !== 'request') return;
        const result = apply(value, message.op);
        if (message.op.type !== 'read' && result.value !== value) {
          value = result.value;
          version++;
          for (const peer of ctx.peers) ctx.send(peer, { kind: 'replicate', version, value });
        }
        ctx.send(from, { kind: 'reply', requestId: message.requestId, output: result.output });
      },
      onCrash() {
        value = null;
        version = 0;
      },
    };
    return { id, node };
  });
}

export interface RegisterWorkloadOptions {
  readonly clients?: number;
  readonly operations?: number;
  readonly timeoutMs?: number;
  /** Values written are drawn from 0..valueRange-1. Default 5. */
  readonly valueRange?: number;
  /** Where writes and CAS go. Default 'n1'. */
  readonly writeTo?: string;
  /** Send reads to a random node (true) or to `writeTo` (false). Default false. */
  readonly readFromAny?: boolean;
}

/** Clients issuing reads (50%), writes (35%) and CAS (15%) against a register service. */
export function registerWorkload(options: RegisterWorkloadOptions = {}): Workload<RegisterInput, RegisterOutput, RegisterMessage> {
  const valueRange = options.valueRange ?? 5;
  const writeTo = options.writeTo ?? 'n1';
  const readFromAny = options.readFromAny ?? false;
  return {
    clients: options.clients ?? 3,
    operations: options.operations ?? 60,
    timeoutMs: options.timeoutMs ?? 50,
    generate(random: Random): RegisterInput {
      const r = random.float();
      if (r < 0.5) return { type: 'read' };
      if (r < 0.85) return { type: 'write', value: random.int(0, valueRange - 1) };
      return { type: 'cas', expected: random.int(0, valueRange - 1), value: random.int(0, valueRange - 1) };
    },
    request(input, info) {
      const to = input.type === 'read' && readFromAny ? info.random.pick(info.nodes) : writeTo;
      return { to, message: { kind: 'request', requestId: info.requestId, client: info.client, op: input } };
    },
    reply(message) {
      if (message.kind !== 'reply') return undefined;
      return { requestId: message.requestId, ok: true, output: message.output };
    },
  };
}
