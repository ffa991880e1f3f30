// The shared lease timer and the shared deadline queue, on fake timers.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TaskScheduler } from './scheduler.js';
import { isDeadlineExceededError, withDeadline } from './timing.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('TaskScheduler', () => {
  it('runs every live task once, never before its time, and never a cancelled one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ delay: fc.integer({ min: 0, max: 500 }), cancel: fc.boolean() }), { maxLength: 200 }), async (specs) => {
        const clock = { now: () => Date.now() };
        const scheduler = new TaskScheduler(clock);
        const start = clock.now();
        const ran: { index: number; at: number; ranAt: number }[] = [];
        const tasks = specs.map((spec, index) =>
          scheduler.schedule(start + spec.delay, () => ran.push({ index, at: start + spec.delay, ranAt: clock.now() })),
        );
        specs.forEach((spec, index) => {
          if (spec.cancel) scheduler.cancel(tasks[index]!);
        });
        await vi.advanceTimersByTimeAsync(600);
        const expected = specs.flatMap((spec, index) => (spec.cancel ? [] : [index])).sort((a, b) => a - b);
        expect(ran.map((r) => r.index).sort((a, b) => a - b)).toEqual(expected);
        for (const r of ran) expect(r.ranAt).toBeGreaterThanOrEqual(r.at);
        expect(scheduler.size).toBe(0);
      }),
      { numRuns: 30 },
    );
  });

  it('a task may schedule and cancel others while it runs', async () => {
    const clock = { now: () => Date.now() };
    const scheduler = new TaskScheduler(clock);
    const seen: string[] = [];
    const doomed = scheduler.schedule(clock.now() + 50, () => seen.push('doomed'));
    scheduler.schedule(clock.now() + 10, () => {
      seen.push('first');
      scheduler.cancel(doomed);
      scheduler.schedule(clock.now() + 5, () => seen.push('second'));
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(seen).toEqual(['first', 'second']);
  });
});

describe('withDeadline', () => {
  it('rejects a call that never settles, not before its timeout', async () => {
    const never = new Promise<never>(() => undefined);
    let error: unknown;
    const started = Date.now();
    let rejectedAt = 0;
    withDeadline(never, 200).catch((e: unknown) => {
      error = e;
      rejectedAt = Date.now();
    });
    await vi.advanceTimersByTimeAsync(199);
    expect(error).toBeUndefined();
    await vi.advanceTimersByTimeAsync(100);
    expect(isDeadlineExceededError(error)).toBe(true);
    expect(rejectedAt - started).toBeGreaterThanOrEqual(200);
  });

  it('passes values and failures through, and the signal wins when it aborts first', async () => {
    await expect(withDeadline(Promise.resolve(7), 100)).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error('boom')), 100)).rejects.toThrow('boom');
    const controller = new AbortController();
    const pending = withDeadline(new Promise<never>(() => undefined), 1_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });
});
