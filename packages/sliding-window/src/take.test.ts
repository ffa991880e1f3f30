import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSlidingWindow } from './create.js';
import { SlidingLog } from './sliding-log.js';
import { isInvalidArgumentError, isLimiterClosedError, isWaitExceedsDeadlineError } from '@bulwark/token-bucket';

describe('take() on the in-memory limiters', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const clock = { now: () => Date.now() };

  it.each(['log', 'counter'] as const)('%s: waits FIFO and tryTake cannot overtake the queue', async (algorithm) => {
    const limiter = createSlidingWindow({ algorithm, limit: 2, windowMs: 1000, clock });
    limiter.tryTake(2);
    const order: number[] = [];
    const waits = [1, 2, 3].map((i) => limiter.take('', 1, { maxWaitMs: 10_000 }).then(() => order.push(i)));
    expect(limiter.tryTake().allowed).toBe(false);
    expect(limiter.stats().waiters).toBe(3);
    await vi.advanceTimersByTimeAsync(3000);
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
    expect(limiter.stats().waiters).toBe(0);
  });

  it('fails fast, recording nothing, when the wait would exceed maxWaitMs', async () => {
    const limiter = new SlidingLog({ limit: 1, windowMs: 1000, clock });
    limiter.tryTake();
    const error: unknown = await limiter.take(1, { maxWaitMs: 999 }).catch((e: unknown) => e);
    expect(isWaitExceedsDeadlineError(error)).toBe(true);
    const queued = limiter.take(1, { maxWaitMs: 1000 });
    // Someone is queued until t=1000: a second waiter with a 500 ms budget fails at once.
    await expect(limiter.take(1, { maxWaitMs: 500 })).rejects.toSatisfy(isWaitExceedsDeadlineError);
    await vi.advanceTimersByTimeAsync(1000);
    await expect(queued).resolves.toEqual({ waitedMs: 1000 });
    expect(limiter.tryTake().allowed).toBe(false);
  });

  it('queued waiters whose deadline falls before the next opening fail without waiting for it', async () => {
    const limiter = new SlidingLog({ limit: 1, windowMs: 1000, clock });
    limiter.tryTake();
    const patient = limiter.take(1, { maxWaitMs: 5000 });
    const hasty = limiter.take(1, { maxWaitMs: 1500 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1000); // patient gets the slot; the next opens at 2000 > hasty's deadline
    await expect(patient).resolves.toEqual({ waitedMs: 1000 });
    expect(isWaitExceedsDeadlineError(await hasty)).toBe(true);
  });

  it('abort removes the waiter; close rejects the rest', async () => {
    const limiter = new SlidingLog({ limit: 1, windowMs: 1000, clock });
    limiter.tryTake();
    const controller = new AbortController();
    const aborted = limiter.take(1, { signal: controller.signal });
    const closed = limiter.take(1);
    controller.abort(new Error('no longer needed'));
    await expect(aborted).rejects.toThrow('no longer needed');
    expect(limiter.stats().waiters).toBe(1);
    await limiter.close();
    await expect(closed).rejects.toSatisfy(isLimiterClosedError);
    await expect(limiter.take()).rejects.toSatisfy(isLimiterClosedError);
    await expect(limiter.take(5)).rejects.toSatisfy(isInvalidArgumentError);
    await limiter[Symbol.asyncDispose]();
  });

  it('emits dropActive when maxKeys forces out a busy key', () => {
    const limiter = createSlidingWindow({ algorithm: 'counter', limit: 5, windowMs: 1000, clock, maxKeys: 2 });
    const dropped: string[] = [];
    const off = limiter.on('dropActive', ({ key }) => dropped.push(key));
    limiter.tryTake('a');
    limiter.tryTake('b');
    limiter.tryTake('c');
    expect(dropped).toHaveLength(1);
    off();
    expect(() => createSlidingWindow({ algorithm: 'fixed' as 'log', limit: 1, windowMs: 1 })).toThrow(/algorithm/);
  });
});
