import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { createLimiter } from './limiter.js';
import { isPoolClosedError, isQueueFullError, isTaskCancelledError, isTaskTimeoutError } from './errors.js';

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('createLimiter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('validates options, naming the option', () => {
    expect(() => createLimiter({ concurrency: 0 })).toThrow(/concurrency must be an integer >= 1/);
    expect(() => createLimiter({ concurrency: 1.5 })).toThrow(RangeError);
    expect(() => createLimiter({ concurrency: 'x' as unknown as number })).toThrow(TypeError);
    expect(() => createLimiter({ concurrency: 1, maxQueue: -1 })).toThrow(/maxQueue/);
  });

  it('runs at most `concurrency` functions and passes values and errors through', async () => {
    const limiter = createLimiter({ concurrency: 2 });
    const gates = [deferred<number>(), deferred<number>(), deferred<number>()];
    const started: number[] = [];
    const results = gates.map((gate, i) =>
      limiter.run(() => {
        started.push(i);
        return gate.promise;
      }),
    );
    await flush();
    expect(started).toEqual([0, 1]);
    expect(limiter.running).toBe(2);
    expect(limiter.queueSize).toBe(1);
    gates[0]!.resolve(10);
    await expect(results[0]).resolves.toBe(10);
    await flush();
    expect(started).toEqual([0, 1, 2]);
    gates[1]!.reject(new Error('nope'));
    await expect(results[1]).rejects.toThrow('nope');
    gates[2]!.resolve(30);
    await expect(results[2]).resolves.toBe(30);
    await expect(limiter.run(() => 'sync')).resolves.toBe('sync');
    await expect(
      limiter.run(() => {
        throw new Error('sync throw');
      }),
    ).rejects.toThrow('sync throw');
    const stats = limiter.stats();
    expect(stats).toMatchObject({ completed: 3, failed: 2, running: 0, queueSize: 0 });
    expect(stats.runTime.count).toBe(5);
  });

  it('starts waiting functions by priority, FIFO among equal priorities', async () => {
    const limiter = createLimiter({ concurrency: 1 });
    const gate = deferred();
    const order: string[] = [];
    const first = limiter.run(() => gate.promise);
    const all = [
      limiter.run(() => order.push('low'), { priority: -1 }),
      limiter.run(() => order.push('a0')),
      limiter.run(() => order.push('high1'), { priority: 5 }),
      limiter.run(() => order.push('b0')),
      limiter.run(() => order.push('high2'), { priority: 5 }),
    ];
    gate.resolve();
    await Promise.all([first, ...all]);
    expect(order).toEqual(['high1', 'high2', 'a0', 'b0', 'low']);
  });

  it('rejects (does not throw) when enqueueing fails, and keeps working', async () => {
    let clockBroken = false;
    const clock = {
      now: (): number => {
        if (clockBroken) throw new Error('clock broke');
        return 0;
      },
    };
    const limiter = createLimiter({ concurrency: 1, clock });
    let release!: () => void;
    const blocker = limiter.run(() => new Promise<void>((resolve) => (release = resolve)));
    clockBroken = true;
    const broken = limiter.run(() => 'never', { priority: 1 });
    clockBroken = false;
    await expect(broken).rejects.toThrow('clock broke');
    const later = limiter.run(() => 'ran', { priority: 2 });
    release();
    await blocker;
    await expect(later).resolves.toBe('ran');
    expect(limiter.queueSize).toBe(0);
  });

  it('rejects with QueueFullError beyond maxQueue and counts it', async () => {
    const limiter = createLimiter({ concurrency: 1, maxQueue: 1 });
    const gate = deferred();
    const running = limiter.run(() => gate.promise);
    const queued = limiter.run(() => 'queued');
    const error: unknown = await limiter.run(() => 'rejected').catch((e: unknown) => e);
    expect(isQueueFullError(error)).toBe(true);
    gate.resolve();
    await expect(queued).resolves.toBe('queued');
    await running;
    expect(limiter.stats().rejected).toBe(1);
  });

  it('cancels a waiting function without running it, and a running one at once', async () => {
    const limiter = createLimiter({ concurrency: 1 });
    const gate = deferred();
    const runningController = new AbortController();
    let sawAbort = false;
    const running = limiter.run(
      async ({ signal }) => {
        signal.addEventListener('abort', () => (sawAbort = true));
        await gate.promise;
        return 'late';
      },
      { signal: runningController.signal },
    );
    const queuedController = new AbortController();
    let queuedRan = false;
    const queued = limiter.run(() => (queuedRan = true), { signal: queuedController.signal });
    queuedController.abort(new Error('not needed'));
    const queuedError: unknown = await queued.catch((e: unknown) => e);
    expect(isTaskCancelledError(queuedError)).toBe(true);
    expect(limiter.queueSize).toBe(0);
    runningController.abort();
    const runningError: unknown = await running.catch((e: unknown) => e);
    expect(isTaskCancelledError(runningError)).toBe(true);
    expect(sawAbort).toBe(true);
    // the slot stays taken until the function really returns
    expect(limiter.running).toBe(1);
    gate.resolve();
    await limiter.onIdle();
    expect(queuedRan).toBe(false);
    expect(limiter.stats()).toMatchObject({ cancelled: 2, completed: 0, failed: 0 });
    const pre = new AbortController();
    pre.abort();
    await expect(limiter.run(() => 1, { signal: pre.signal })).rejects.toSatisfy(isTaskCancelledError);
  });

  it('times out a running function (fake timers)', async () => {
    vi.useFakeTimers();
    const limiter = createLimiter({ concurrency: 1 });
    let aborted = false;
    const result = limiter.run(
      ({ signal }) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve('stopped');
          });
        }),
      { timeoutMs: 50 },
    );
    const settled = result.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(49);
    expect(aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await settled;
    expect(isTaskTimeoutError(error)).toBe(true);
    expect(aborted).toBe(true);
    expect(limiter.stats().timedOut).toBe(1);
    await expect(limiter.run(() => 'fine', { timeoutMs: 50 })).resolves.toBe('fine');
  });

  it('onIdle, onSizeLessThan and clear', async () => {
    const limiter = createLimiter({ concurrency: 1 });
    await limiter.onIdle();
    const gate = deferred();
    const first = limiter.run(() => gate.promise);
    const waiting = [1, 2, 3].map((n) => limiter.run(() => n));
    let below2 = false;
    void limiter.onSizeLessThan(2).then(() => (below2 = true));
    await flush();
    expect(below2).toBe(false);
    let idle = false;
    void limiter.onIdle().then(() => (idle = true));
    expect(limiter.clear()).toBe(3);
    for (const w of waiting) await expect(w).rejects.toSatisfy(isTaskCancelledError);
    await flush();
    expect(below2).toBe(true);
    expect(idle).toBe(false);
    gate.resolve();
    await first;
    await flush();
    expect(idle).toBe(true);
  });

  it('onIdle and onSizeLessThan stop waiting when their signal aborts', async () => {
    const limiter = createLimiter({ concurrency: 1 });
    const gate = deferred();
    const running = limiter.run(() => gate.promise);
    const queued = limiter.run(() => 'queued');
    const controller = new AbortController();
    const idle = limiter.onIdle({ signal: controller.signal });
    const size = limiter.onSizeLessThan(1, { signal: controller.signal });
    controller.abort();
    await expect(idle).rejects.toSatisfy(isTaskCancelledError);
    await expect(size).rejects.toSatisfy(isTaskCancelledError);
    gate.resolve();
    await Promise.all([running, queued]);
    await limiter.onIdle({ signal: new AbortController().signal });
  });

  it('close drains; close({ force }) clears; later runs reject', async () => {
    const limiter = createLimiter({ concurrency: 1 });
    const gate = deferred();
    const first = limiter.run(() => gate.promise.then(() => 'first'));
    const second = limiter.run(() => 'second');
    let closed = false;
    const closing = limiter.close().then(() => (closed = true));
    await expect(limiter.run(() => 'x')).rejects.toSatisfy(isPoolClosedError);
    await flush();
    expect(closed).toBe(false);
    gate.resolve();
    await expect(first).resolves.toBe('first');
    await expect(second).resolves.toBe('second');
    await closing;

    const forced = createLimiter({ concurrency: 1 });
    const gate2 = deferred();
    const running = forced.run(() => gate2.promise);
    const dropped = forced.run(() => 'never');
    const forcing = forced.close({ force: true });
    await expect(dropped).rejects.toSatisfy(isTaskCancelledError);
    gate2.resolve();
    await running;
    await forcing;
  });

  it('emits idle and supports await using', async () => {
    let idleEvents = 0;
    {
      await using limiter = createLimiter({ concurrency: 2 });
      const off = limiter.on('idle', () => idleEvents++);
      await limiter.run(() => Promise.resolve(1));
      off();
      await limiter.run(() => Promise.resolve(2));
    }
    expect(idleEvents).toBe(1);
  });

  it('property: never more than `concurrency` running; every task settles exactly once', async () => {
    type Step = { durationTicks: number; priority: number; fail: boolean; cancelAfterTicks: number | undefined };
    const step: fc.Arbitrary<Step> = fc.record({
      durationTicks: fc.integer({ min: 0, max: 5 }),
      priority: fc.integer({ min: -2, max: 2 }),
      fail: fc.boolean(),
      cancelAfterTicks: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
        fc.array(step, { maxLength: 40 }),
        async (concurrency, maxQueue, steps) => {
          const limiter = createLimiter({ concurrency, ...(maxQueue !== undefined ? { maxQueue } : {}) });
          let running = 0;
          let maxRunning = 0;
          const settledCount = new Array<number>(steps.length).fill(0);
          const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
          const promises = steps.map((s, i) => {
            const controller = new AbortController();
            if (s.cancelAfterTicks !== undefined) {
              void (async () => {
                for (let t = 0; t < s.cancelAfterTicks!; t++) await tick();
                controller.abort();
              })();
            }
            return limiter
              .run(
                async () => {
                  running++;
                  maxRunning = Math.max(maxRunning, running);
                  try {
                    for (let t = 0; t < s.durationTicks; t++) await tick();
                    if (s.fail) throw new Error('fail');
                    return i;
                  } finally {
                    running--;
                  }
                },
                { priority: s.priority, signal: controller.signal },
              )
              .then(
                () => settledCount[i]!++,
                () => settledCount[i]!++,
              );
          });
          await Promise.all(promises);
          await limiter.onIdle();
          expect(maxRunning).toBeLessThanOrEqual(concurrency);
          expect(settledCount.every((c) => c === 1)).toBe(true);
          const stats = limiter.stats();
          expect(stats.completed + stats.failed + stats.cancelled + stats.rejected).toBe(steps.length);
          expect(running).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
