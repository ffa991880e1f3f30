// The deterministic simulator. One seed drives everything: message delays,
// drops and duplicates, fault schedules, client think time and what the nodes
// themselves draw from ctx.random. Virtual time only advances by popping the
// next scheduled event, so a run never reads a real clock and replays exactly.
import { createHash, type Hash } from 'node:crypto';
import { sample, validateDistribution, type Distribution } from './distribution.js';
import { EventQueue } from './event-queue.js';
import { HistoryRecorder, type Operation, type PendingOperation } from './history.js';
import { describeAction, type Nemesis, type NemesisAction, type NemesisGenerator } from './nemesis.js';
import { NetworkState, type NetworkOptions } from './network.js';
import { Random, type Seed } from './prng.js';
import { SimulatedDisk, type CrashMode, type SimStorage } from './storage.js';

export type TimerId = number;

/** What a node can do; handed to every callback. Calls made through a context of a crashed incarnation are ignored. */
export interface NodeContext<Message = unknown> {
  readonly id: string;
  /** 0 for the first start, +1 on each restart. */
  readonly incarnation: number;
  /** The other simulated nodes (not clients), sorted. */
  readonly peers: readonly string[];
  /** This node's local clock in ms: virtual time with the node's skew and drift applied. */
  now(): number;
  /** Send a message to a node or client; the network decides delay, loss and duplication. */
  send(to: string, message: Message): void;
  /** Fire onTimer(ctx, tag) after `delayMs` of this node's local time. */
  setTimer(delayMs: number, tag?: string): TimerId;
  cancelTimer(id: TimerId): void;
  /** This node's disk; survives crashes except for unsynced writes. */
  readonly storage: SimStorage;
  /** Seeded generator private to this node (e.g. randomized election timeouts). */
  readonly random: Random;
  /** Add a line to the event trace. */
  trace(note: string): void;
}

/** A simulated process. Only onMessage is required. */
export interface SimNode<Message = unknown> {
  /** Called once at virtual time 0. */
  onStart?(ctx: NodeContext<Message>): void;
  onMessage(ctx: NodeContext<Message>, from: string, message: Message): void;
  /** Called every `tickMs` of local time (if the node spec sets tickMs). */
  onTick?(ctx: NodeContext<Message>): void;
  onTimer?(ctx: NodeContext<Message>, tag: string, id: TimerId): void;
  /** The process died: forget every in-memory field (the disk is handled by the simulator). */
  onCrash?(): void;
  /** The process starts again: rebuild state from ctx.storage. Defaults to onStart. */
  onRestart?(ctx: NodeContext<Message>): void;
}

export interface NodeSpec<Message = unknown> {
  readonly id: string;
  readonly node: SimNode<Message>;
  /** Interval of onTick in local ms. Default: no ticks. */
  readonly tickMs?: number;
  /** Initial local clock: offset from virtual time and drift rate (0.01 = runs 1% fast). */
  readonly clock?: { readonly offsetMs?: number; readonly drift?: number };
}

export type ClientReply<Output> =
  | { readonly requestId: number; readonly ok: true; readonly output: Output }
  /** A definite rejection: the operation did not and will not take effect. */
  | { readonly requestId: number; readonly ok: false; readonly error?: string };

/**
 * Simulated clients. Each client issues one operation at a time: it sends the request
 * built by `request` through the network and waits for a reply that `reply` recognises.
 * No reply within `timeoutMs` records the operation as 'info' and the client continues
 * as a new process (Jepsen's rule: the old operation may still take effect).
 */
export interface Workload<Input, Output, Message = unknown> {
  readonly clients: number;
  /** Total operations across all clients. */
  readonly operations: number;
  readonly timeoutMs: number;
  /** Pause between a completion and the client's next invocation. Default uniform 0–5 ms. */
  readonly thinkTime?: Distribution;
  generate(random: Random, client: number): Input;
  request(input: Input, info: { readonly requestId: number; readonly client: string; readonly random: Random; readonly nodes: readonly string[] }): {
    readonly to: string;
    readonly message: Message;
  };
  /** Recognise a reply delivered to a client; undefined for anything else. */
  reply(message: Message): ClientReply<Output> | undefined;
}

export interface SimulationOptions<Input = unknown, Output = unknown, Message = unknown> {
  readonly seed: Seed;
  readonly nodes: readonly NodeSpec<Message>[];
  readonly network?: NetworkOptions;
  readonly nemesis?: Nemesis;
  readonly workload?: Workload<Input, Output, Message>;
  /**
   * Deliver a structured clone of each message (default true), so sender and receiver
   * never share mutable objects. Class instances arrive as plain objects.
   */
  readonly cloneMessages?: boolean;
  /** Keep the trace lines (default true). The hash is computed either way. */
  readonly recordTrace?: boolean;
  /** How a message appears in the trace. Default: JSON with bytes as hex. */
  readonly describeMessage?: (message: Message) => string;
}

export interface RunLimits {
  /** Stop after processing this many events. */
  readonly steps?: number;
  /** Stop before any event scheduled after this virtual time. */
  readonly untilMs?: number;
}

export interface SimulationStats {
  readonly events: number;
  readonly messagesSent: number;
  readonly messagesDelivered: number;
  readonly messagesDropped: number;
  readonly messagesDuplicated: number;
  readonly timersFired: number;
  readonly crashes: number;
  readonly restarts: number;
  readonly nemesisActions: number;
}

export interface SimulationResult<Input = unknown, Output = unknown> {
  readonly seed: Seed;
  readonly history: Operation<Input, Output>[];
  /** sha256 of the trace, hex. Equal seeds give equal hashes. */
  readonly traceHash: string;
  /** The trace lines (empty when recordTrace is false). */
  readonly trace: readonly string[];
  readonly nowMs: number;
  readonly stats: SimulationStats;
  /** Why the run stopped. */
  readonly stoppedBy: 'workload-done' | 'steps' | 'time' | 'idle';
}

type SimEvent<Message> =
  | { readonly kind: 'start'; readonly node: string }
  | { readonly kind: 'deliver'; readonly from: string; readonly to: string; readonly message: Message; readonly messageId: number; readonly copy: boolean }
  | { readonly kind: 'timer'; readonly node: string; readonly timerId: number; readonly incarnation: number }
  | { readonly kind: 'tick'; readonly node: string; readonly incarnation: number }
  | { readonly kind: 'nemesis'; readonly action: NemesisAction }
  | { readonly kind: 'nemesis-next' }
  | { readonly kind: 'client-invoke'; readonly client: number }
  | { readonly kind: 'client-timeout'; readonly client: number; readonly requestId: number };

interface NodeRuntime<Message> {
  readonly spec: NodeSpec<Message>;
  readonly disk: SimulatedDisk;
  readonly random: Random;
  incarnation: number;
  up: boolean;
  context: NodeContext<Message>;
  // Local clock: local(t) = anchorLocal + (t - anchorGlobal) * rate.
  anchorGlobal: number;
  anchorLocal: number;
  rate: number;
}

interface ClientRuntime<Input, Output> {
  readonly index: number;
  readonly name: string;
  process: number;
  pending: { readonly requestId: number; readonly op: PendingOperation<Output>; readonly input: Input } | undefined;
}

interface TimerEntry {
  readonly node: string;
  readonly tag: string;
}

const ENDPOINT_PATTERN = /^[A-Za-z0-9_.:-]+$/;

/** A deterministic simulation you can step, drive and inspect; `simulate()` runs one to completion. */
export class Simulation<Input = unknown, Output = unknown, Message = unknown> {
  readonly seed: Seed;
  readonly #queue = new EventQueue<SimEvent<Message>>();
  readonly #network: NetworkState;
  readonly #nodes = new Map<string, NodeRuntime<Message>>();
  readonly #nodeIds: readonly string[];
  readonly #clients: ClientRuntime<Input, Output>[] = [];
  readonly #clientByName = new Map<string, ClientRuntime<Input, Output>>();
  readonly #workload: Workload<Input, Output, Message> | undefined;
  readonly #nemesis: NemesisGenerator | undefined;
  readonly #recorder: HistoryRecorder<Input, Output>;
  readonly #timers = new Map<number, TimerEntry>();
  readonly #netRandom: Random;
  readonly #nemesisRandom: Random;
  readonly #clientRandom: Random;
  readonly #crashRandom: Random;
  readonly #hash: Hash = createHash('sha256');
  readonly #trace: string[] = [];
  readonly #recordTrace: boolean;
  readonly #clone: boolean;
  readonly #describe: (message: Message) => string;
  #now = 0;
  #nextTimerId = 1;
  #nextMessageId = 1;
  #nextRequestId = 1;
  #nextProcess = 0;
  #issued = 0;
  #completed = 0;
  #finished = false;
  #hashHex: string | undefined;
  #stats = { events: 0, messagesSent: 0, messagesDelivered: 0, messagesDropped: 0, messagesDuplicated: 0, timersFired: 0, crashes: 0, restarts: 0, nemesisActions: 0 };

  constructor(options: SimulationOptions<Input, Output, Message>) {
    this.seed = options.seed;
    const root = new Random(options.seed);
    const rawNodes: unknown = options.nodes;
    if (!Array.isArray(rawNodes)) throw new TypeError('simulate: options.nodes must be an array of { id, node }');
    this.#network = new NetworkState(options.network);
    // Fork every stream up front, in a fixed order, so components do not shift each other.
    this.#netRandom = root.fork('network');
    this.#nemesisRandom = root.fork('nemesis');
    this.#clientRandom = root.fork('clients');
    this.#crashRandom = root.fork('crash');
    this.#recordTrace = options.recordTrace ?? true;
    this.#clone = options.cloneMessages ?? true;
    this.#describe = options.describeMessage ?? describeValue;
    this.#recorder = new HistoryRecorder<Input, Output>({ clock: { now: () => this.#now } });
    this.#nodeIds = options.nodes.map((spec) => spec.id).sort();

    for (const spec of options.nodes) {
      if (typeof spec.id !== 'string' || !ENDPOINT_PATTERN.test(spec.id)) {
        throw new TypeError(`simulate: node id must match ${String(ENDPOINT_PATTERN)}, got ${JSON.stringify(spec.id)}`);
      }
      if (this.#nodes.has(spec.id)) throw new TypeError(`simulate: duplicate node id ${JSON.stringify(spec.id)}`);
      if (typeof spec.node?.onMessage !== 'function') throw new TypeError(`simulate: node ${spec.id} must implement onMessage`);
      if (spec.tickMs !== undefined && !(Number.isFinite(spec.tickMs) && spec.tickMs > 0)) {
        throw new RangeError(`simulate: node ${spec.id} tickMs must be a finite number > 0, got ${String(spec.tickMs)}`);
      }
      const drift = spec.clock?.drift ?? 0;
      if (!(drift > -1 && Number.isFinite(drift))) throw new RangeError(`simulate: node ${spec.id} clock.drift must be > -1, got ${drift}`);
      const runtime: NodeRuntime<Message> = {
        spec,
        disk: new SimulatedDisk(),
        random: root.fork(`node:${spec.id}`),
        incarnation: 0,
        up: true,
        context: undefined as unknown as NodeContext<Message>,
        anchorGlobal: 0,
        anchorLocal: spec.clock?.offsetMs ?? 0,
        rate: 1 + drift,
      };
      runtime.context = this.#makeContext(runtime);
      this.#nodes.set(spec.id, runtime);
    }
    const workload = options.workload;
    this.#workload = workload;
    if (workload) {
      if (!Number.isSafeInteger(workload.clients) || workload.clients < 1) throw new RangeError(`workload.clients must be an integer >= 1, got ${workload.clients}`);
      if (!Number.isSafeInteger(workload.operations) || workload.operations < 0) throw new RangeError(`workload.operations must be an integer >= 0, got ${workload.operations}`);
      if (!(Number.isFinite(workload.timeoutMs) && workload.timeoutMs > 0)) throw new RangeError(`workload.timeoutMs must be a finite number > 0, got ${workload.timeoutMs}`);
      if (workload.thinkTime) validateDistribution(workload.thinkTime, 'workload.thinkTime');
      for (let i = 0; i < workload.clients; i++) {
        const name = `client-${i}`;
        if (this.#nodes.has(name)) throw new TypeError(`simulate: node id ${name} is reserved for workload clients`);
        const client: ClientRuntime<Input, Output> = { index: i, name, process: this.#nextProcess++, pending: undefined };
        this.#clients.push(client);
        this.#clientByName.set(name, client);
      }
    }

    for (const id of this.#nodeIds) this.#queue.push(0, { kind: 'start', node: id });
    for (const client of this.#clients) this.#queue.push(0, { kind: 'client-invoke', client: client.index });

    const nemesis = options.nemesis;
    if (nemesis === undefined) this.#nemesis = undefined;
    else if (Array.isArray(nemesis)) {
      this.#nemesis = undefined;
      for (const step of nemesis as readonly { atMs: number; action: NemesisAction }[]) {
        if (!(Number.isFinite(step.atMs) && step.atMs >= 0)) throw new RangeError(`nemesis: atMs must be a finite number >= 0, got ${String(step.atMs)}`);
        this.#queue.push(step.atMs, { kind: 'nemesis', action: step.action });
      }
    } else {
      const generator = nemesis as NemesisGenerator;
      if (typeof generator.next !== 'function') throw new TypeError('nemesis must be an array of { atMs, action } or an object with next(context)');
      this.#nemesis = generator;
      this.#queue.push(0, { kind: 'nemesis-next' });
    }
  }

  /** Current virtual time in ms. */
  now(): number {
    return this.#now;
  }

  /** Node ids, sorted. */
  get nodeIds(): readonly string[] {
    return this.#nodeIds;
  }

  /** Whether a node is up. */
  isUp(node: string): boolean {
    return this.#runtime(node).up;
  }

  /** The disk of a node (for assertions on what is durable). */
  storage(node: string): SimulatedDisk {
    return this.#runtime(node).disk;
  }

  /** The node's context as of its current incarnation (e.g. to call its API from a test). */
  context(node: string): NodeContext<Message> {
    return this.#runtime(node).context;
  }

  /** True when every workload operation has completed (or there is no workload). */
  get workloadDone(): boolean {
    const w = this.#workload;
    return w === undefined || (this.#issued >= w.operations && this.#completed >= this.#issued);
  }

  /** Apply a fault now (in addition to any scheduled nemesis). */
  apply(action: NemesisAction): void {
    this.#applyAction(action);
  }

  /** Process the next event. Returns false when nothing is scheduled. */
  step(): boolean {
    const next = this.#queue.pop();
    if (!next) return false;
    this.#now = next.time;
    this.#stats.events++;
    this.#dispatch(next.value);
    return true;
  }

  /**
   * Run until a limit is reached, the queue is empty, or (with a workload) every operation
   * completed. With `untilMs`, virtual time ends at `untilMs` even if nothing happens before.
   */
  run(limits: RunLimits = {}): SimulationResult<Input, Output>['stoppedBy'] {
    const maxSteps = limits.steps ?? Number.POSITIVE_INFINITY;
    const until = limits.untilMs ?? Number.POSITIVE_INFINITY;
    let steps = 0;
    for (;;) {
      if (this.#workload && this.workloadDone) return 'workload-done';
      if (steps >= maxSteps) return 'steps';
      const next = this.#queue.peek();
      if (!next) {
        if (Number.isFinite(until)) this.#now = Math.max(this.#now, until);
        return 'idle';
      }
      if (next.time > until) {
        this.#now = Math.max(this.#now, until);
        return 'time';
      }
      this.step();
      steps++;
    }
  }

  /** The history recorded so far (pending operations appear as 'info'). */
  history(): Operation<Input, Output>[] {
    return this.#recorder.history();
  }

  trace(): readonly string[] {
    return this.#trace;
  }

  /** Hash of the trace so far; after this call the trace is closed. */
  traceHash(): string {
    if (this.#hashHex === undefined) {
      this.#finished = true;
      this.#hashHex = this.#hash.digest('hex');
    }
    return this.#hashHex;
  }

  stats(): SimulationStats {
    return { ...this.#stats };
  }

  // ---------------------------------------------------------------- internals

  #runtime(node: string): NodeRuntime<Message> {
    const r = this.#nodes.get(node);
    if (!r) throw new RangeError(`unknown node ${JSON.stringify(node)}; nodes: ${this.#nodeIds.join(', ')}`);
    return r;
  }

  #log(line: string): void {
    if (this.#finished) return;
    const full = `${this.#now.toFixed(6)} ${line}`;
    this.#hash.update(full);
    this.#hash.update('\n');
    if (this.#recordTrace) this.#trace.push(full);
  }

  #localTime(r: NodeRuntime<Message>): number {
    return r.anchorLocal + (this.#now - r.anchorGlobal) * r.rate;
  }

  #makeContext(r: NodeRuntime<Message>): NodeContext<Message> {
    const incarnation = r.incarnation;
    const live = (): boolean => r.up && r.incarnation === incarnation;
    const id = r.spec.id;
    return {
      id,
      incarnation,
      peers: this.#nodeIds.filter((n) => n !== id),
      now: () => this.#localTime(r),
      send: (to, message) => {
        if (!live()) return;
        this.#send(id, to, message);
      },
      setTimer: (delayMs, tag = '') => {
        if (!(Number.isFinite(delayMs) && delayMs >= 0)) throw new RangeError(`setTimer: delayMs must be a finite number >= 0, got ${delayMs}`);
        const timerId = this.#nextTimerId++;
        if (!live()) return timerId;
        this.#timers.set(timerId, { node: id, tag });
        this.#queue.push(this.#now + delayMs / r.rate, { kind: 'timer', node: id, timerId, incarnation });
        return timerId;
      },
      cancelTimer: (timerId) => {
        this.#timers.delete(timerId);
      },
      storage: r.disk,
      random: r.random,
      trace: (note) => {
        if (live()) this.#log(`note ${id} ${note}`);
      },
    };
  }

  #send(from: string, to: string, message: Message): void {
    if (!this.#nodes.has(to) && !this.#clientByName.has(to)) {
      throw new RangeError(`send: unknown destination ${JSON.stringify(to)} (from ${from})`);
    }
    const messageId = this.#nextMessageId++;
    this.#stats.messagesSent++;
    const link = this.#network.link(from, to);
    const description = this.#describe(message);
    if (this.#network.isBlocked(from, to)) {
      this.#stats.messagesDropped++;
      this.#log(`drop #${messageId} ${from}->${to} partitioned ${description}`);
      return;
    }
    if (this.#netRandom.chance(link.dropRate)) {
      this.#stats.messagesDropped++;
      this.#log(`drop #${messageId} ${from}->${to} lost ${description}`);
      return;
    }
    const copies = this.#netRandom.chance(link.duplicateRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      let at = this.#now + sample(link.delay, this.#netRandom);
      if (link.fifo) at = this.#network.fifoDeliveryTime(from, to, at);
      const payload = this.#clone ? structuredClone(message) : message;
      this.#queue.push(at, { kind: 'deliver', from, to, message: payload, messageId, copy: c > 0 });
      this.#log(`send #${messageId}${c > 0 ? ' (duplicate)' : ''} ${from}->${to} at=${at.toFixed(6)} ${description}`);
    }
    if (copies > 1) this.#stats.messagesDuplicated++;
  }

  #dispatch(event: SimEvent<Message>): void {
    switch (event.kind) {
      case 'start': {
        const r = this.#runtime(event.node);
        this.#log(`start ${event.node}`);
        r.spec.node.onStart?.(r.context);
        this.#scheduleTick(r);
        return;
      }
      case 'deliver':
        this.#deliver(event);
        return;
      case 'timer': {
        const entry = this.#timers.get(event.timerId);
        const r = this.#runtime(event.node);
        if (!entry || !r.up || r.incarnation !== event.incarnation) return;
        this.#timers.delete(event.timerId);
        this.#stats.timersFired++;
        this.#log(`timer ${event.node} #${event.timerId} ${entry.tag}`);
        r.spec.node.onTimer?.(r.context, entry.tag, event.timerId);
        return;
      }
      case 'tick': {
        const r = this.#runtime(event.node);
        if (!r.up || r.incarnation !== event.incarnation) return;
        this.#log(`tick ${event.node}`);
        r.spec.node.onTick?.(r.context);
        this.#scheduleTick(r);
        return;
      }
      case 'nemesis':
        this.#applyAction(event.action);
        return;
      case 'nemesis-next': {
        const generator = this.#nemesis;
        if (!generator) return;
        const crashed = new Set(this.#nodeIds.filter((n) => !this.#runtime(n).up));
        const move = generator.next({
          now: this.#now,
          random: this.#nemesisRandom,
          nodes: this.#nodeIds,
          crashed,
          partitioned: this.#network.partitioned,
        });
        if (!move) return;
        if (!(Number.isFinite(move.afterMs) && move.afterMs >= 0)) throw new RangeError(`nemesis: afterMs must be a finite number >= 0, got ${String(move.afterMs)}`);
        this.#queue.push(this.#now + move.afterMs, { kind: 'nemesis', action: move.action });
        this.#queue.push(this.#now + move.afterMs, { kind: 'nemesis-next' });
        return;
      }
      case 'client-invoke':
        this.#clientInvoke(this.#clients[event.client]!);
        return;
      case 'client-timeout': {
        const client = this.#clients[event.client]!;
        const pending = client.pending;
        if (!pending || pending.requestId !== event.requestId) return;
        this.#log(`client ${client.name} timeout req=${pending.requestId} op=${pending.op.id}`);
        pending.op.info('timeout');
        client.pending = undefined;
        client.process = this.#nextProcess++; // Jepsen: an indeterminate process is replaced
        this.#completed++;
        this.#scheduleNextInvoke(client);
        return;
      }
    }
  }

  #scheduleTick(r: NodeRuntime<Message>): void {
    const tickMs = r.spec.tickMs;
    if (tickMs === undefined || r.spec.node.onTick === undefined) return;
    this.#queue.push(this.#now + tickMs / r.rate, { kind: 'tick', node: r.spec.id, incarnation: r.incarnation });
  }

  #deliver(event: Extract<SimEvent<Message>, { kind: 'deliver' }>): void {
    const label = `#${event.messageId}${event.copy ? ' (duplicate)' : ''} ${event.from}->${event.to}`;
    if (this.#network.isBlocked(event.from, event.to)) {
      this.#stats.messagesDropped++;
      this.#log(`drop ${label} partitioned in flight`);
      return;
    }
    const client = this.#clientByName.get(event.to);
    if (client) {
      this.#stats.messagesDelivered++;
      this.#log(`deliver ${label}`);
      this.#clientReceive(client, event.message);
      return;
    }
    const r = this.#runtime(event.to);
    if (!r.up) {
      this.#stats.messagesDropped++;
      this.#log(`drop ${label} destination down`);
      return;
    }
    this.#stats.messagesDelivered++;
    this.#log(`deliver ${label}`);
    r.spec.node.onMessage(r.context, event.from, event.message);
  }

  #clientInvoke(client: ClientRuntime<Input, Output>): void {
    const workload = this.#workload;
    if (!workload || this.#issued >= workload.operations) return;
    this.#issued++;
    const input = workload.generate(this.#clientRandom, client.index);
    const requestId = this.#nextRequestId++;
    const op = this.#recorder.invoke(client.process, input);
    client.pending = { requestId, op, input };
    const { to, message } = workload.request(input, { requestId, client: client.name, random: this.#clientRandom, nodes: this.#nodeIds });
    this.#log(`client ${client.name} invoke op=${op.id} p=${client.process} req=${requestId} ${describeValue(input)}`);
    this.#queue.push(this.#now + workload.timeoutMs, { kind: 'client-timeout', client: client.index, requestId });
    this.#send(client.name, to, message);
  }

  #clientReceive(client: ClientRuntime<Input, Output>, message: Message): void {
    const workload = this.#workload;
    if (!workload) return;
    const reply = workload.reply(message);
    const pending = client.pending;
    if (!reply || !pending || reply.requestId !== pending.requestId) {
      this.#log(`client ${client.name} ignores stale reply`);
      return;
    }
    if (reply.ok) {
      pending.op.ok(reply.output);
      this.#log(`client ${client.name} ok op=${pending.op.id} ${describeValue(reply.output)}`);
    } else {
      pending.op.fail(reply.error);
      this.#log(`client ${client.name} fail op=${pending.op.id} ${reply.error ?? ''}`);
    }
    client.pending = undefined;
    this.#completed++;
    this.#scheduleNextInvoke(client);
  }

  #scheduleNextInvoke(client: ClientRuntime<Input, Output>): void {
    const workload = this.#workload;
    if (!workload || this.#issued >= workload.operations) return;
    const think = workload.thinkTime ? sample(workload.thinkTime, this.#clientRandom) : this.#clientRandom.between(0, 5);
    this.#queue.push(this.#now + think, { kind: 'client-invoke', client: client.index });
  }

  #applyAction(action: NemesisAction): void {
    this.#stats.nemesisActions++;
    this.#log(`nemesis ${describeAction(action)}`);
    switch (action.type) {
      case 'partition': {
        const groups = action.groups;
        for (let a = 0; a < groups.length; a++) {
          for (let b = 0; b < groups.length; b++) {
            if (a === b) continue;
            for (const from of groups[a]!) for (const to of groups[b]!) this.#network.block(from, to);
          }
        }
        return;
      }
      case 'partition-one-way':
        for (const from of action.from) for (const to of action.to) this.#network.block(from, to);
        return;
      case 'heal':
        this.#network.heal();
        return;
      case 'link':
        this.#network.setLink(action.from, action.to, action.options);
        return;
      case 'reset-links':
        this.#network.resetLinks();
        return;
      case 'crash':
        this.#crash(action.node, action.mode ?? 'lose-unsynced');
        return;
      case 'restart':
        this.#restart(action.node);
        return;
      case 'clock': {
        const r = this.#runtime(action.node);
        const local = this.#localTime(r);
        r.anchorGlobal = this.#now;
        r.anchorLocal = local + (action.jumpMs ?? 0);
        if (action.drift !== undefined) {
          if (!(action.drift > -1)) throw new RangeError(`clock action: drift must be > -1, got ${action.drift}`);
          r.rate = 1 + action.drift;
        }
        return;
      }
    }
  }

  #crash(node: string, mode: CrashMode): void {
    const r = this.#runtime(node);
    if (!r.up) return;
    r.up = false;
    this.#stats.crashes++;
    const report = r.disk.crash(mode, this.#crashRandom);
    this.#log(`crashed ${node} kept=${report.kept} lost=${report.lost}${report.tornKey === undefined ? '' : ` torn=${report.tornKey}`}`);
    r.spec.node.onCrash?.();
  }

  #restart(node: string): void {
    const r = this.#runtime(node);
    if (r.up) return;
    r.up = true;
    r.incarnation++;
    r.context = this.#makeContext(r);
    this.#stats.restarts++;
    this.#log(`restarted ${node} incarnation=${r.incarnation}`);
    const n = r.spec.node;
    if (n.onRestart) n.onRestart(r.context);
    else n.onStart?.(r.context);
    this.#scheduleTick(r);
  }
}

export interface SimulateOptions<Input, Output, Message> extends SimulationOptions<Input, Output, Message> {
  /** Maximum events to process. Default 1,000,000. */
  readonly steps?: number;
  /** Maximum virtual time in ms. Default 10 minutes. */
  readonly durationMs?: number;
}

/** Run one simulation to completion (workload done, limit reached, or nothing left to do). */
export function simulate<Input = unknown, Output = unknown, Message = unknown>(
  options: SimulateOptions<Input, Output, Message>,
): SimulationResult<Input, Output> {
  const sim = new Simulation<Input, Output, Message>(options);
  const stoppedBy = sim.run({ steps: options.steps ?? 1_000_000, untilMs: options.durationMs ?? 600_000 });
  return {
    seed: sim.seed,
    history: sim.history(),
    traceHash: sim.traceHash(),
    trace: sim.trace(),
    nowMs: sim.now(),
    stats: sim.stats(),
    stoppedBy,
  };
}

/** Deterministic text for the trace: JSON with sorted keys, bytes as hex, bigint as digits. */
export function describeValue(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof Uint8Array) return `0x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
    if (v instanceof Map) return { map: [...(v as Map<unknown, unknown>).entries()] };
    if (v instanceof Set) return { set: [...(v as Set<unknown>).values()] };
    if (v === undefined) return null;
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  }) ?? 'undefined';
}
