import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenBucket } from './token-bucket.js';
import { isLimiterClosedError, isWaitExceedsDeadlineError } from './errors.js';

describe('TokenBucket.take', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const clock = { now: () => Date.now() };

  it('waits FIFO for the tokens', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillRate: 1, intervalMs: 100, clock });
    const order: string[] = [];
    await bucket.take();
    const first = bucket.take(1).then(() => order.push('first'));
    const second = bucket.take(1).then(() => order.push('second'));
    expect(bucket.tryTake().allowed).toBe(false); // no overtaking the queue
    await vi.advanceTimersByTimeAsync(100);
    expect(order).toEqual(['first']);
    await vi.advanceTimersByTimeAsync(100);
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
    expect(bucket.stats().waiters).toBe(0);
  });

  it('fails fast, consuming nothing, when the wait would exceed maxWaitMs', async () => {
    const bucket = new TokenBucket({ capacity: 2, refillRate: 1, intervalMs: 1000, clock });
    bucket.tryTake(2);
    const error: unknown = await bucket.take(1, { maxWaitMs: 500 }).catch((e: unknown) => e);
    expect(isWaitExceedsDeadlineError(error)).toBe(true);
    expect((error as { waitMs: number }).waitMs).toBe(1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(bucket.tryTake('', 1).allowed).toBe(true); // the failed take reserved nothing
    const waiting = bucket.take('', 1, { maxWaitMs: 1000 });
    await vi.advanceTimersByTimeAsync(1000);
    await expect(waiting).resolves.toEqual({ waitedMs: 1000 });
  });

  it('aborting gives the tokens back and rejects with the reason', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillRate: 1, intervalMs: 1000, clock });
    bucket.tryTake();
    const controller = new AbortController();
    const waiting = bucket.take(1, { signal: controller.signal });
    await vi.advanceTimersByTimeAsync(100);
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    await vi.advanceTimersByTimeAsync(900);
    expect(bucket.tryTake().allowed).toBe(true);
    const aborted = AbortSignal.abort(new Error('already'));
    await expect(bucket.take(1, { signal: aborted })).rejects.toThrow('already');
  });

  it('close() rejects waiters with LimiterClosedError and refunds them', async () => {
    const bucket = new TokenBucket({ capacity: 1, refillRate: 1, intervalMs: 1000, clock });
    bucket.tryTake();
    const waiting = bucket.take('', 1);
    await bucket.close();
    await expect(waiting).rejects.toSatisfy(isLimiterClosedError);
    await expect(bucket.take()).rejects.toSatisfy(isLimiterClosedError);
    expect(bucket.tryTake().retryAfterMs).toBe(1000);
    await bucket[Symbol.asyncDispose]();
  });

  it('emits dropActive when maxKeys forces out a busy key', () => {
    const bucket = new TokenBucket({ capacity: 2, refillRate: 1, intervalMs: 1000, clock, maxKeys: 2 });
    const dropped: string[] = [];
    const off = bucket.on('dropActive', ({ key }) => dropped.push(key));
    bucket.tryTake('a');
    bucket.tryTake('b');
    bucket.tryTake('c');
    expect(dropped).toHaveLength(1);
    off();
    bucket.tryTake('d');
    expect(dropped).toHaveLength(1);
    expect(bucket.toJSON()).toMatchObject({ keys: 2, capacity: 2, droppedActive: 2 });
  });
});
