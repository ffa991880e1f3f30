// The lease state machine on a scripted backend, with fake timers driving time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isLockLostError, isStoreUnavailableError, type LockLostError } from './errors.js';
import { Emitter, type LockEvents } from './events.js';
import { ManagedLease, type LeaseBackend } from './lease.js';
import { validUntil } from './validity.js';

const clock = { now: () => Date.now() };
const TTL = 1_000;

type Answer = boolean | Error | 'hang';

function backend(extendAnswers: Answer[]): LeaseBackend & { extends: number; releases: number } {
  const state = {
    extends: 0,
    releases: 0,
    extend: (): Promise<boolean> => {
      state.extends++;
      const answer = extendAnswers.shift() ?? true;
      if (answer === 'hang') return new Promise<boolean>(() => undefined);
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
    release: (): Promise<boolean> => {
      state.releases++;
      return Promise.resolve(true);
    },
  };
  return state;
}

function lease(b: LeaseBackend, options: { autoExtend?: false | { beforeExpiryMs: number }; maxExtensions?: number } = {}) {
  const events = new Emitter<LockEvents>();
  const seen: string[] = [];
  for (const name of ['extended', 'extendFailed', 'lost', 'released', 'releaseFailed'] as const) events.on(name, () => seen.push(name));
  const l = new ManagedLease({
    timing: {
      key: 'k',
      ttlMs: TTL,
      driftFactor: 0.01,
      attemptTimeoutMs: 200,
      clock,
      autoExtend: options.autoExtend ?? { beforeExpiryMs: TTL / 2 },
      maxExtensions: options.maxExtensions ?? Infinity,
    },
    fencingToken: 7,
    validUntil: validUntil(clock.now(), TTL, 0.01),
    backend: b,
    events,
  });
  return { lease: l, seen };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ManagedLease', () => {
  it('auto-extends before expiry and stays valid for as long as extensions succeed', async () => {
    const b = backend([]);
    const { lease: l } = lease(b);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(l.state).toBe('held');
    expect(l.signal.aborted).toBe(false);
    expect(b.extends).toBeGreaterThanOrEqual(9);
    expect(l.remainingMs()).toBeGreaterThan(0);
    await l.release();
    expect(l.signal.aborted).toBe(true);
    expect(b.releases).toBe(1);
  });

  it('aborts the signal at the predicted expiry when no extension is configured', async () => {
    const { lease: l, seen } = lease(backend([]), { autoExtend: false });
    const expiry = l.validUntil;
    await vi.advanceTimersByTimeAsync(expiry - clock.now() - 1);
    expect(l.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(l.signal.aborted).toBe(true);
    expect(clock.now()).toBeLessThanOrEqual(Math.ceil(expiry));
    expect(isLockLostError(l.signal.reason)).toBe(true);
    expect((l.signal.reason as LockLostError).reason).toBe('expired');
    expect(seen).toEqual(['lost']);
  });

  it('aborts immediately when Redis says the lock is no longer ours', async () => {
    const { lease: l, seen } = lease(backend([false]));
    await vi.advanceTimersByTimeAsync(TTL / 2);
    expect(l.state).toBe('lost');
    expect((l.signal.reason as LockLostError).reason).toBe('taken');
    expect(seen).toEqual(['lost']);
    await expect(l.extend()).rejects.toSatisfy(isLockLostError);
  });

  it('keeps retrying a failing extension and aborts no later than the predicted expiry', async () => {
    const down = new Error('ECONNREFUSED');
    const { lease: l, seen } = lease(backend([down, down, down, down, down, down, down, down, down, down, down, down]));
    const expiry = l.validUntil;
    await vi.advanceTimersByTimeAsync(expiry - clock.now() - 1);
    expect(l.state).toBe('held');
    expect(seen.filter((e) => e === 'extendFailed').length).toBeGreaterThanOrEqual(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(l.signal.aborted).toBe(true);
    expect((l.signal.reason as LockLostError).reason).toBe('expired');
  });

  it('a hanging extension cannot hold the lease past its expiry', async () => {
    const { lease: l } = lease(backend(['hang', 'hang', 'hang', 'hang', 'hang', 'hang', 'hang', 'hang']));
    await vi.advanceTimersByTimeAsync(TTL);
    expect(l.state).toBe('lost');
  });

  it('recovers when a failed extension is followed by a successful one', async () => {
    const { lease: l, seen } = lease(backend([new Error('timeout'), true]));
    await vi.advanceTimersByTimeAsync(TTL * 3);
    expect(l.state).toBe('held');
    expect(seen).toContain('extendFailed');
    expect(seen).toContain('extended');
  });

  it('stops after maxExtensions automatic extensions and then expires', async () => {
    const b = backend([]);
    const { lease: l } = lease(b, { maxExtensions: 2 });
    await vi.advanceTimersByTimeAsync(TTL * 4);
    expect(b.extends).toBe(2);
    expect(l.state).toBe('lost');
  });

  it('manual extend moves validUntil from the moment it was sent and reports store failures as StoreUnavailableError', async () => {
    const { lease: l } = lease(backend([true, new Error('boom')]), { autoExtend: false });
    await vi.advanceTimersByTimeAsync(300);
    const sentAt = clock.now();
    await l.extend(5_000);
    expect(l.validUntil).toBe(validUntil(sentAt, 5_000, 0.01));
    await expect(l.extend()).rejects.toSatisfy(isStoreUnavailableError);
    expect(l.state).toBe('held');
    await expect(l.extend(0)).rejects.toThrow(RangeError);
  });

  it('release is idempotent and a released lease refuses to extend', async () => {
    const b = backend([]);
    const { lease: l, seen } = lease(b);
    expect(await l.release()).toBe(true);
    expect(await l.release()).toBe(false);
    expect(b.releases).toBe(1);
    expect(seen).toEqual(['released']);
    await expect(l.extend()).rejects.toSatisfy((e: unknown) => isLockLostError(e) && e.reason === 'released');
  });
});
