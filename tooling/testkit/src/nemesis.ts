// Fault schedules. A nemesis is either a script (a list of actions at fixed
// virtual times) or a generator the simulation asks for its next action; the
// random one draws every choice from the simulation's seeded generator.
import { sample, uniform, validateDistribution, type Distribution } from './distribution.js';
import type { LinkOptions } from './network.js';
import type { Random } from './prng.js';
import { CRASH_MODES, type CrashMode } from './storage.js';

export type NemesisAction =
  /** Two-way partition: nodes in different groups cannot talk; unlisted endpoints stay connected to all. */
  | { readonly type: 'partition'; readonly groups: readonly (readonly string[])[] }
  /** One-way partition: messages from `from` to `to` are lost, the reverse direction works. */
  | { readonly type: 'partition-one-way'; readonly from: readonly string[]; readonly to: readonly string[] }
  /** Remove every partition. */
  | { readonly type: 'heal' }
  /** Crash a node: timers stop, messages to it are lost, unsynced storage writes are lost per `mode`. */
  | { readonly type: 'crash'; readonly node: string; readonly mode?: CrashMode }
  /** Start a crashed node again (calls onRestart). */
  | { readonly type: 'restart'; readonly node: string }
  /** Change a node's local clock: jump it by `jumpMs` and/or set its drift rate (0.01 = 1% fast). */
  | { readonly type: 'clock'; readonly node: string; readonly jumpMs?: number; readonly drift?: number }
  /** Override the behaviour of directed links (delay, drop, duplicate, fifo). */
  | { readonly type: 'link'; readonly from: string; readonly to: string; readonly options: LinkOptions }
  /** Forget every link override set by `link` actions. */
  | { readonly type: 'reset-links' };

export interface ScheduledNemesisAction {
  readonly atMs: number;
  readonly action: NemesisAction;
}

/** What a nemesis generator sees when asked for its next move. */
export interface NemesisContext {
  readonly now: number;
  readonly random: Random;
  readonly nodes: readonly string[];
  readonly crashed: ReadonlySet<string>;
  readonly partitioned: boolean;
}

export interface NemesisGenerator {
  /** The next action and how long after `now` it happens, or undefined to stop. */
  next(context: NemesisContext): { readonly afterMs: number; readonly action: NemesisAction } | undefined;
}

export type Nemesis = readonly ScheduledNemesisAction[] | NemesisGenerator;

export type FaultKind = 'partition' | 'partition-one-way' | 'crash' | 'clock' | 'flaky-link' | 'slow-link';
export const FAULT_KINDS: readonly FaultKind[] = ['partition', 'partition-one-way', 'crash', 'clock', 'flaky-link', 'slow-link'];

export interface RandomNemesisOptions {
  /** Faults to choose from. Default: all of FAULT_KINDS. */
  readonly faults?: readonly FaultKind[];
  /** Time between nemesis actions. Default uniform 20–200 ms. */
  readonly interval?: Distribution;
  /** Probability that a step repairs something (heal, restart, reset) instead of adding a fault. Default 0.5. */
  readonly recoverRate?: number;
  /** Never crash more than this many nodes at once (keep a quorum alive). Default floor((n-1)/2). */
  readonly maxCrashed?: number;
  /** Crash modes to choose from. Default ['lose-unsynced']. */
  readonly crashModes?: readonly CrashMode[];
  /** Largest clock jump in ms (either direction). Default 100. */
  readonly maxClockJumpMs?: number;
  /** Largest drift rate (either direction). Default 0.05 (5%). */
  readonly maxDrift?: number;
  /**
   * Endpoints the faults touch. Default: every simulated node. Workload clients
   * (`client-0`, ...) may be listed to partition them too; only nodes crash or drift.
   */
  readonly targets?: readonly string[];
  /** Stop after this many actions. Default unlimited. */
  readonly maxActions?: number;
}

/** A nemesis that injects and repairs random faults from the simulation's seeded stream. */
export function randomNemesis(options: RandomNemesisOptions = {}): NemesisGenerator {
  const faults = options.faults ?? FAULT_KINDS;
  for (const f of faults) {
    if (!FAULT_KINDS.includes(f)) throw new RangeError(`randomNemesis: unknown fault ${JSON.stringify(f)}; accepted: ${FAULT_KINDS.join(', ')}`);
  }
  const interval = options.interval ?? uniform(20, 200);
  validateDistribution(interval, 'randomNemesis.interval');
  const recoverRate = options.recoverRate ?? 0.5;
  if (!(recoverRate >= 0 && recoverRate <= 1)) throw new RangeError(`randomNemesis.recoverRate must be in [0, 1], got ${recoverRate}`);
  const crashModes = options.crashModes ?? ['lose-unsynced'];
  for (const m of crashModes) {
    if (!CRASH_MODES.includes(m)) throw new RangeError(`randomNemesis.crashModes: unknown mode ${JSON.stringify(m)}; accepted: ${CRASH_MODES.join(', ')}`);
  }
  const maxJump = options.maxClockJumpMs ?? 100;
  const maxDrift = options.maxDrift ?? 0.05;
  const maxActions = options.maxActions ?? Number.POSITIVE_INFINITY;
  let actions = 0;
  let linksTouched = false;
  let clocksTouched = new Set<string>();

  return {
    next(ctx) {
      if (actions >= maxActions) return undefined;
      actions++;
      const afterMs = sample(interval, ctx.random);
      const targets = options.targets ?? ctx.nodes;
      // Clients can be partitioned, but only simulated nodes crash or have clocks.
      const processes = targets.filter((t) => ctx.nodes.includes(t));
      const maxCrashed = options.maxCrashed ?? Math.floor((processes.length - 1) / 2);
      const random = ctx.random;
      const broken = ctx.crashed.size > 0 || ctx.partitioned || linksTouched || clocksTouched.size > 0;
      if (broken && random.chance(recoverRate)) {
        const repairs: NemesisAction[] = [];
        for (const node of [...ctx.crashed].sort()) repairs.push({ type: 'restart', node });
        if (ctx.partitioned) repairs.push({ type: 'heal' });
        if (linksTouched) repairs.push({ type: 'reset-links' });
        for (const node of [...clocksTouched].sort()) repairs.push({ type: 'clock', node, drift: 0 });
        const action = random.pick(repairs);
        if (action.type === 'reset-links') linksTouched = false;
        if (action.type === 'clock') clocksTouched = new Set([...clocksTouched].filter((n) => n !== action.node));
        return { afterMs, action };
      }
      const alive = processes.filter((n) => !ctx.crashed.has(n));
      const possible = faults.filter(
        (f) => (f !== 'crash' || (ctx.crashed.size < maxCrashed && alive.length > 0)) && (f !== 'clock' || processes.length > 0),
      );
      if (possible.length === 0 || targets.length === 0) return { afterMs, action: { type: 'heal' } };
      const kind = random.pick(possible);
      switch (kind) {
        case 'partition': {
          const shuffled = random.shuffle(targets);
          const cut = random.int(1, Math.max(1, shuffled.length - 1));
          return { afterMs, action: { type: 'partition', groups: [shuffled.slice(0, cut), shuffled.slice(cut)] } };
        }
        case 'partition-one-way': {
          const shuffled = random.shuffle(targets);
          const cut = random.int(1, Math.max(1, shuffled.length - 1));
          return { afterMs, action: { type: 'partition-one-way', from: shuffled.slice(0, cut), to: shuffled.slice(cut) } };
        }
        case 'crash':
          return { afterMs, action: { type: 'crash', node: random.pick(alive), mode: random.pick(crashModes) } };
        case 'clock': {
          const node = random.pick(processes);
          clocksTouched.add(node);
          return {
            afterMs,
            action: { type: 'clock', node, jumpMs: random.between(-maxJump, maxJump), drift: random.between(-maxDrift, maxDrift) },
          };
        }
        case 'flaky-link':
        case 'slow-link': {
          linksTouched = true;
          const from = random.chance(0.5) ? '*' : random.pick(targets);
          const to = from === '*' ? random.pick(targets) : random.chance(0.5) ? '*' : random.pick(targets);
          const options: LinkOptions =
            kind === 'flaky-link'
              ? { dropRate: random.between(0, 0.5), duplicateRate: random.between(0, 0.3) }
              : { delay: uniform(10, random.between(20, 200)) };
          return { afterMs, action: { type: 'link', from, to, options } };
        }
      }
    },
  };
}

export function describeAction(action: NemesisAction): string {
  switch (action.type) {
    case 'partition':
      return `partition ${action.groups.map((g) => `[${g.join(',')}]`).join(' | ')}`;
    case 'partition-one-way':
      return `partition-one-way [${action.from.join(',')}] -x-> [${action.to.join(',')}]`;
    case 'heal':
      return 'heal';
    case 'crash':
      return `crash ${action.node} (${action.mode ?? 'lose-unsynced'})`;
    case 'restart':
      return `restart ${action.node}`;
    case 'clock':
      return `clock ${action.node} jump=${(action.jumpMs ?? 0).toFixed(3)} drift=${action.drift === undefined ? 'unchanged' : action.drift.toFixed(5)}`;
    case 'link':
      return `link ${action.from}->${action.to} ${JSON.stringify(action.options)}`;
    case 'reset-links':
      return 'reset-links';
  }
}
