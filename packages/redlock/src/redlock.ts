// Redlock over N independent Redis masters, on @bulwark/redis-lock's scripts:
// quorum ⌊N/2⌋+1, validity = ttl - (time since THIS attempt was sent) - drift on a
// monotonic clock, release everywhere after a failed attempt, and a best-effort
// fencing token kept in step across masters.
import { randomUUID } from 'node:crypto';
import {
  InvalidOptionsError,
  LockBase,
  LockHeldError,
  ManagedLease,
  acquireOnce,
  extendOnce,
  hasMinValidity,
  planRetry,
  raiseFence,
  releaseOnce,
  resolveLockTiming,
  sleep,
  validUntil,
  withDeadline,
} from '@bulwark/redis-lock';
import type { AcquireOptions, AcquireReply, Lease, LockTimingOptions, RedisClient, ResolvedLockTiming } from '@bulwark/redis-lock';
import { QuorumUnavailableError } from './errors.js';
import { quorumOf, runRound, type Tally } from './quorum.js';

export interface RedlockOptions extends LockTimingOptions {
  /** Independent Redis masters (no replication between them), ideally an odd number >= 3. */
  clients: readonly RedisClient[];
}

type AttemptFailure =
  | { kind: 'held'; holderTtlMs: number | undefined }
  | { kind: 'unavailable'; answered: number; detail: string; cause?: unknown };

/** A Redlock lock on one key. Create with `createRedlock`. */
export class Redlock extends LockBase {
  readonly #clients: readonly RedisClient[];
  readonly #timing: ResolvedLockTiming;
  /** ⌊N/2⌋ + 1. */
  readonly quorum: number;

  constructor(options: RedlockOptions) {
    const timing = resolveLockTiming(options);
    super(timing.key);
    const clients: unknown = options.clients;
    if (!Array.isArray(clients) || clients.length === 0 || clients.length > 64) {
      throw new InvalidOptionsError('clients', 'an array of 1..64 ioredis clients', clients);
    }
    clients.forEach((client: unknown, index) => {
      if (typeof client !== 'object' || client === null || typeof (client as { evalsha?: unknown }).evalsha !== 'function') {
        throw new InvalidOptionsError(`clients[${index}]`, 'an ioredis Redis or Cluster client', client);
      }
    });
    if (new Set(clients).size !== clients.length) {
      throw new InvalidOptionsError('clients', 'distinct clients, one per independent master', clients);
    }
    this.#clients = [...(clients as RedisClient[])];
    this.#timing = timing;
    this.quorum = quorumOf(this.#clients.length);
  }

  /**
   * Takes the lock on a quorum of masters, retrying per the retry policy. Resolves with a
   * Lease holding at least `minValidityMs`. Rejects with LockHeldError (contended),
   * QuorumUnavailableError (too many masters down, paused or slow), or the signal's reason.
   */
  async acquire(options: AcquireOptions = {}): Promise<Lease> {
    this.assertOpen();
    const { signal } = options;
    signal?.throwIfAborted();
    const { clock, retry, random } = this.#timing;
    const startedAt = clock.now();
    let attempts = 0;
    for (;;) {
      attempts++;
      const outcome = await this.#attempt(attempts, signal);
      if ('lease' in outcome) return outcome.lease;
      const decision = planRetry(retry, { attemptsMade: attempts, startedAt, now: clock.now(), random: random() });
      if (!decision.retry) throw this.#failure(outcome.failure, attempts, clock.now() - startedAt);
      await sleep(decision.delayMs, signal);
    }
  }

  async #attempt(attempts: number, signal: AbortSignal | undefined): Promise<{ lease: Lease } | { failure: AttemptFailure }> {
    const { clock, keys, ttlMs, driftFactor, attemptTimeoutMs, minValidityMs } = this.#timing;
    const token = randomUUID();
    // Validity counts from here, the moment this attempt is sent (not from the first attempt).
    const sentAt = clock.now();
    const deadline = sentAt + attemptTimeoutMs;
    const round = await runRound(
      this.#clients.map((client) => withDeadline(acquireOnce(client, keys, token, ttlMs), attemptTimeoutMs, signal)),
      (result) => (result.status === 'rejected' ? 'error' : result.value.acquired ? 'yes' : 'no'),
    );
    if (signal?.aborted) {
      this.#releaseEverywhere(token);
      throw signal.reason;
    }
    if (round.decision !== 'yes') {
      this.#releaseEverywhere(token);
      return { failure: this.#describe(round.decision, round.tally, round.results) };
    }

    // Fencing: the token is the largest counter among the granting masters. Masters
    // lagging behind it are raised to it, so every quorum that can grant this lock
    // next overlaps a master whose counter is already >= this token.
    const granted: { index: number; counter: number }[] = [];
    round.results.forEach((result, index) => {
      if (result?.status === 'fulfilled' && result.value.acquired) granted.push({ index, counter: result.value.fencingToken });
    });
    const fencingToken = Math.max(...granted.map((g) => g.counter));
    let inStep = granted.filter((g) => g.counter >= fencingToken).length;
    const lagging = granted.filter((g) => g.counter < fencingToken);
    if (lagging.length > 0) {
      const left = Math.max(1, deadline - clock.now());
      const raised = await Promise.allSettled(
        lagging.map((g) => withDeadline(raiseFence(this.#clients[g.index]!, keys, fencingToken), left, signal)),
      );
      inStep += raised.filter((r) => r.status === 'fulfilled' && r.value >= fencingToken).length;
      if (signal?.aborted) {
        this.#releaseEverywhere(token);
        throw signal.reason;
      }
    }
    if (inStep < this.quorum) {
      this.#releaseEverywhere(token);
      return {
        failure: { kind: 'unavailable', answered: inStep, detail: 'could not bring a quorum of fencing counters in step' },
      };
    }
    const until = validUntil(sentAt, ttlMs, driftFactor);
    if (!hasMinValidity(until, clock.now(), minValidityMs)) {
      this.#releaseEverywhere(token);
      return {
        failure: {
          kind: 'unavailable',
          answered: round.tally.yes,
          detail: `quorum reached too late: less than minValidityMs (${minValidityMs} ms) of validity left`,
        },
      };
    }
    return { lease: this.#lease(token, fencingToken, until, attempts) };
  }

  #describe(
    decision: 'no' | 'unavailable',
    tally: Tally,
    results: (PromiseSettledResult<AcquireReply> | undefined)[],
  ): AttemptFailure {
    if (decision === 'no') {
      const ttls = results.flatMap((r) => (r?.status === 'fulfilled' && !r.value.acquired && r.value.holderTtlMs !== undefined ? [r.value.holderTtlMs] : []));
      return { kind: 'held', holderTtlMs: ttls.length > 0 ? Math.min(...ttls) : undefined };
    }
    const firstError = results.find((r) => r?.status === 'rejected');
    const cause = firstError?.status === 'rejected' ? (firstError.reason as unknown) : undefined;
    return {
      kind: 'unavailable',
      answered: tally.yes + tally.no,
      detail: cause instanceof Error ? cause.message : 'masters did not answer',
      cause,
    };
  }

  #lease(token: string, fencingToken: number, until: number, attempts: number): Lease {
    const t = this.#timing;
    const clients = this.#clients;
    const masters = clients.length;
    const quorumUnavailable = (tally: Tally, detail: string): QuorumUnavailableError =>
      new QuorumUnavailableError({ key: t.key, quorum: this.quorum, masters, answered: tally.yes + tally.no, attempts: 0, detail });
    const lease = new ManagedLease({
      timing: t,
      fencingToken,
      validUntil: until,
      events: this.events,
      backend: {
        // Extending and releasing also raise every reachable master's counter to our token.
        extend: async (ttl, timeoutMs) => {
          const round = await runRound(
            clients.map((c) => withDeadline(extendOnce(c, t.keys, token, ttl, fencingToken), timeoutMs)),
            (r) => (r.status === 'rejected' ? 'error' : r.value ? 'yes' : 'no'),
          );
          if (round.decision === 'unavailable') throw quorumUnavailable(round.tally, 'extend');
          return round.decision === 'yes';
        },
        release: async (timeoutMs) => {
          const round = await runRound(
            clients.map((c) => withDeadline(releaseOnce(c, t.keys, token, fencingToken), timeoutMs)),
            (r) => (r.status === 'rejected' ? 'error' : r.value ? 'yes' : 'no'),
          );
          if (round.decision === 'unavailable') throw quorumUnavailable(round.tally, 'release');
          return round.decision === 'yes';
        },
      },
      onSettled: (settled) => this.active.delete(settled),
      unavailable: (message, cause) =>
        new QuorumUnavailableError({ key: t.key, quorum: this.quorum, masters, answered: 0, attempts: 0, detail: message, cause }),
    });
    this.active.add(lease);
    this.events.emit('acquired', { key: t.key, fencingToken, validUntil: until, attempts });
    return lease;
  }

  /** Best-effort delete of `token` on every master (compare-owner, so harmless where we do not hold it). */
  #releaseEverywhere(token: string): void {
    const { keys, attemptTimeoutMs } = this.#timing;
    for (const client of this.#clients) {
      withDeadline(releaseOnce(client, keys, token), attemptTimeoutMs).catch(() => undefined);
    }
  }

  #failure(failure: AttemptFailure, attempts: number, elapsedMs: number): Error {
    if (failure.kind === 'held') {
      this.countFailure('contended');
      return new LockHeldError({ key: this.key, attempts, elapsedMs, retryAfterMs: failure.holderTtlMs });
    }
    this.countFailure('unavailable');
    return new QuorumUnavailableError({
      key: this.key,
      quorum: this.quorum,
      masters: this.#clients.length,
      answered: failure.answered,
      attempts,
      detail: failure.detail,
      cause: failure.cause,
    });
  }
}

/** Creates a Redlock lock over independent masters. Throws InvalidOptionsError for bad options. */
export function createRedlock(options: RedlockOptions): Redlock {
  return new Redlock(options);
}
