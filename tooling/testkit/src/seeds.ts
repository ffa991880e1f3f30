// Seed selection and failure reporting for simulation tests:
//   SEED=1234 pnpm --filter <pkg> test   replays one seed
//   SEEDS=20000 pnpm --filter <pkg> test runs seeds 1..20000 (or SEEDS=5000..9000)
// and the default is a fixed set, so CI is reproducible.
import { checkLinearizability, type CheckOptions } from './checker.js';
import type { Operation } from './history.js';
import type { Model } from './models.js';
import { formatCheckResult } from './render.js';

export type SimSeed = number | string;

export interface SeedsFromEnvOptions {
  /** Seeds to run when neither SEED nor SEEDS is set: a count (1..n) or a list. */
  readonly defaultSeeds: number | readonly SimSeed[];
  /** Environment to read. Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

function parseSeed(text: string): SimSeed {
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) && Number.isSafeInteger(Number(trimmed)) ? Number(trimmed) : trimmed;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let s = from; s <= to; s++) out.push(s);
  return out;
}

/** The seeds this test run should use: SEED (one), SEEDS (N or A..B), else the default set. */
export function seedsFromEnv(options: SeedsFromEnvOptions): SimSeed[] {
  const env = options.env ?? process.env;
  const one = env['SEED'];
  if (one !== undefined && one.trim() !== '') return [parseSeed(one)];
  const many = env['SEEDS'];
  if (many !== undefined && many.trim() !== '') {
    const m = /^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$/.exec(many);
    if (!m) throw new RangeError(`SEEDS must be a count (e.g. 20000) or a range (e.g. 100..500), got ${JSON.stringify(many)}`);
    return m[2] === undefined ? range(1, Number(m[1])) : range(Number(m[1]), Number(m[2]));
  }
  const d = options.defaultSeeds;
  if (typeof d === 'number') {
    if (!(Number.isSafeInteger(d) && d >= 0)) throw new RangeError(`defaultSeeds must be a non-negative integer or a list, got ${d}`);
    return range(1, d);
  }
  return [...d];
}

/** The shell command that replays one seed of a package's tests. */
export function replayCommand(seed: SimSeed, packageName: string, testName?: string): string {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const seedText = typeof seed === 'number' ? String(seed) : quote(seed);
  return `SEED=${seedText} pnpm --filter ${packageName} test${testName ? ` -t ${quote(testName)}` : ''}`;
}

/** Thrown by forEachSeed: carries the seed and the command that replays it. */
export class SeedFailureError extends Error {
  readonly code = 'ERR_SEED_FAILURE';
  readonly seed: SimSeed;
  readonly replay: string;
  constructor(seed: SimSeed, replay: string, detail: string, options?: { cause?: unknown }) {
    super(`seed ${String(seed)} failed (replay: ${replay})\n${detail}`, options);
    this.name = 'SeedFailureError';
    this.seed = seed;
    this.replay = replay;
  }
}

export function isSeedFailureError(error: unknown): error is SeedFailureError {
  return error instanceof SeedFailureError || (error instanceof Error && (error as { code?: unknown }).code === 'ERR_SEED_FAILURE');
}

export interface ForEachSeedOptions {
  readonly seeds: readonly SimSeed[];
  /** npm name of the package whose tests these are, for the replay command. */
  readonly packageName: string;
  /** Test name for `-t` in the replay command. */
  readonly testName?: string;
  /** Run one seed: throw, or return a failure description; return undefined/void when it passed. */
  readonly run: (seed: SimSeed) => string | undefined | void;
  /** Print the failure (seed + replay command) to stderr too. Default true. */
  readonly log?: boolean;
}

/** Run every seed; on the first failure throw a SeedFailureError naming the seed and the replay command. */
export function forEachSeed(options: ForEachSeedOptions): { readonly seedsRun: number } {
  let seedsRun = 0;
  for (const seed of options.seeds) {
    seedsRun++;
    let detail: string | undefined;
    let cause: unknown;
    try {
      detail = options.run(seed) ?? undefined;
    } catch (error) {
      cause = error;
      detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    }
    if (detail !== undefined) {
      const replay = replayCommand(seed, options.packageName, options.testName);
      if (options.log ?? true) console.error(`\n✗ seed ${String(seed)} failed — replay with:\n  ${replay}\n`);
      throw new SeedFailureError(seed, replay, detail, cause === undefined ? undefined : { cause });
    }
  }
  return { seedsRun };
}

/**
 * Check a history and describe the failure (explanation + text timeline), or return
 * undefined when it is linearizable. 'unknown' (budget exhausted) counts as a failure.
 */
export function linearizabilityFailure<State, Input, Output>(
  history: readonly Operation<Input, Output>[],
  model: Model<State, Input, Output>,
  options: Omit<CheckOptions<State, Input, Output>, 'model' | 'history'> = {},
): string | undefined {
  const result = checkLinearizability({ ...options, model, history });
  return result.verdict === 'ok' ? undefined : formatCheckResult(result, history, model);
}
