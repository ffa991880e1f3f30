import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  createPool,
  isPoolClosedError,
  isQueueFullError,
  isTaskCancelledError,
  isTaskNotCloneableError,
  isTaskTimeoutError,
  isWorkerExitError,
  isWorkerLoadError,
  type Pool,
  type PoolOptions,
} from '../src/index.js';

const fixture = (name: string): URL => new URL(`./fixtures/${name}`, import.meta.url);
const tasksFile = fixture('tasks.mjs');

const pools: Pool[] = [];
function pool(options: Partial<PoolOptions> = {}): Pool {
  const p = createPool({ filename: tasksFile, ...options });
  pools.push(p);
  return p;
}

async function settleOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** A blocking task the test releases: cell 0 = open, cell 1 = started. */
function gate(): { cells: Int32Array; open: () => void; started: () => Promise<void> } {
  const cells = new Int32Array(new SharedArrayBuffer(8));
  return {
    cells,
    open: () => {
      Atomics.store(cells, 0, 1);
      Atomics.notify(cells, 0);
    },
    started: async () => {
      for (let i = 0; i < 1000 && Atomics.load(cells, 1) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    },
  };
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close({ force: true })));
});

describe('createPool: options and loading', () => {
  it('validates options with the option name and range', () => {
    expect(() => createPool({ filename: tasksFile, maxThreads: 0 })).toThrow(/maxThreads must be an integer >= 1/);
    expect(() => createPool({ filename: tasksFile, maxThreads: 1, minThreads: 2 })).toThrow(/minThreads .*\[0, maxThreads=1\]/);
    expect(() => createPool({ filename: tasksFile, concurrentTasksPerWorker: 0 })).toThrow(RangeError);
    expect(() => createPool({})).toThrow(/filename/);
  });

  it('throws WorkerLoadError for a file that does not exist', () => {
    let error: unknown;
    try {
      createPool({ filename: fixture('missing.mjs') });
    } catch (e) {
      error = e;
    }
    expect(isWorkerLoadError(error)).toBe(true);
  });

  it('rejects tasks with WorkerLoadError when the module has no handler or throws while loading', async () => {
    const noHandler = pool({ filename: fixture('no-handler.mjs') });
    expect(isWorkerLoadError(await settleOf(noHandler.run(1)))).toBe(true);
    const throwing = pool({ filename: fixture('throws-on-load.mjs') });
    const error = await settleOf(throwing.run(1));
    expect(isWorkerLoadError(error)).toBe(true);
    expect((error as Error).message).toMatch(/module failed to initialise/);
  });

  it('uses a named export chosen by `name`, and accepts a path string', async () => {
    const p = pool({ filename: fixture('named.mjs').pathname, name: 'square' });
    await expect(p.run(7)).resolves.toBe(49);
  });
});

describe('createPool: running tasks', () => {
  it('runs tasks, passes errors through and records stats', async () => {
    const p = pool({ maxThreads: 2 });
    const sums = await Promise.all(Array.from({ length: 200 }, (_, i) => p.run<number>({ kind: 'add', a: i, b: 1 })));
    expect(sums).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const error = await settleOf(p.run({ kind: 'throw', message: 'bad input' }));
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('bad input');
    const stats = p.stats();
    expect(stats.completed).toBe(200);
    expect(stats.failed).toBe(1);
    expect(stats.runTime.count).toBe(201);
    expect(stats.waitTime.count).toBe(201);
    expect(stats.inFlight).toBe(0);
    expect(JSON.parse(JSON.stringify(p))).toMatchObject({ completed: 200 });
  });

  it('rejects a non-cloneable task or result with TaskNotCloneableError and stays usable', async () => {
    const p = pool({ maxThreads: 1 });
    const good = p.run({ kind: 'add', a: 1, b: 2 });
    const bad = p.run({ kind: 'echo', value: () => 1 });
    expect(isTaskNotCloneableError(await settleOf(bad))).toBe(true);
    await expect(good).resolves.toBe(3);
    expect(isTaskNotCloneableError(await settleOf(p.run({ kind: 'uncloneable-result' })))).toBe(true);
    await expect(p.run({ kind: 'add', a: 2, b: 2 })).resolves.toBe(4);
  });

  it('transfers buffers in transferList', async () => {
    const p = pool({ maxThreads: 1 });
    const buffer = new ArrayBuffer(64);
    await expect(p.run({ kind: 'bytes', buffer }, { transferList: [buffer] })).resolves.toBe(64);
    expect(buffer.byteLength).toBe(0); // detached: it moved to the worker
  });

  it('runs waiting tasks by priority, FIFO among equals', async () => {
    const p = pool({ maxThreads: 1, minThreads: 1 });
    const g = gate();
    const blocker = p.run({ kind: 'gate', gate: g.cells });
    const order: string[] = [];
    const names = [
      ['low', -1],
      ['a', 0],
      ['high1', 3],
      ['b', 0],
      ['high2', 3],
    ] as const;
    await new Promise((resolve) => setImmediate(resolve)); // let the blocker be handed over first
    const runs = names.map(([name, priority]) => p.run({ kind: 'echo', value: name }, { priority }).then(() => order.push(name)));
    await g.started();
    g.open();
    await Promise.all([blocker, ...runs]);
    expect(order).toEqual(['high1', 'high2', 'a', 'b', 'low']);
  });

  it('runs several async tasks per thread with concurrentTasksPerWorker', async () => {
    const p = pool({ maxThreads: 1, concurrentTasksPerWorker: 4 });
    const threadIds = await Promise.all(Array.from({ length: 8 }, () => p.run<number>({ kind: 'sleep', ms: 20 })));
    expect(new Set(threadIds).size).toBe(1);
  });
});

describe('createPool: cancellation, timeouts, crashes', () => {
  it('cancels a queued task: it is removed and never runs', async () => {
    const p = pool({ maxThreads: 1, pipelineDepth: 0 });
    const g = gate();
    const blocker = p.run({ kind: 'gate', gate: g.cells, value: 'blocker' });
    const controller = new AbortController();
    const queued = p.run({ kind: 'echo', value: 'queued' }, { signal: controller.signal });
    await new Promise((resolve) => setImmediate(resolve));
    expect(p.queueSize).toBe(1);
    controller.abort(new Error('changed my mind'));
    const error = await settleOf(queued);
    expect(isTaskCancelledError(error)).toBe(true);
    expect(p.queueSize).toBe(0);
    g.open();
    await expect(blocker).resolves.toBe('blocker');
    expect(p.stats()).toMatchObject({ cancelled: 1, completed: 1 });
  });

  it('cancels a running task by replacing its thread; the pool stays usable', async () => {
    const p = pool({ maxThreads: 1 });
    const firstThread = await p.run<number>({ kind: 'thread' });
    const controller = new AbortController();
    const firstExited = new Promise<void>((resolve) => {
      p.on('workerExit', ({ threadId }) => {
        if (threadId === firstThread) resolve();
      });
    });
    const started = new Int32Array(new SharedArrayBuffer(4));
    const hanging = p.run({ kind: 'hang', started }, { signal: controller.signal });
    for (let i = 0; i < 1000 && Atomics.load(started, 0) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    expect(isTaskCancelledError(await settleOf(hanging))).toBe(true);
    const nextThread = await p.run<number>({ kind: 'thread' });
    expect(nextThread).not.toBe(firstThread);
    await firstExited;
    await expect(p.run({ kind: 'add', a: 20, b: 22 })).resolves.toBe(42);
  });

  it('rejects an already aborted signal without queueing', async () => {
    const p = pool();
    const error = await settleOf(p.run({ kind: 'add', a: 1, b: 1 }, { signal: AbortSignal.abort() }));
    expect(isTaskCancelledError(error)).toBe(true);
  });

  it('times out a running task with TaskTimeoutError and replaces the thread', async () => {
    const p = pool({ maxThreads: 1 });
    const error = await settleOf(p.run({ kind: 'hang' }, { timeoutMs: 100 }));
    expect(isTaskTimeoutError(error)).toBe(true);
    await expect(p.run({ kind: 'add', a: 1, b: 1 }, { timeoutMs: 5000 })).resolves.toBe(2);
    expect(p.stats().timedOut).toBe(1);
  });

  it('rejects the task of a thread that exits mid-task with WorkerExitError and replaces it', async () => {
    const p = pool({ maxThreads: 1 });
    const error = await settleOf(p.run({ kind: 'exit', code: 7 }));
    expect(isWorkerExitError(error)).toBe(true);
    expect((error as { exitCode?: number }).exitCode).toBe(7);
    await expect(p.run({ kind: 'add', a: 2, b: 3 })).resolves.toBe(5);
  });

  it('rejects the task of a thread that crashes (uncaught exception) and stays usable', async () => {
    const p = pool({ maxThreads: 1 });
    const error = await settleOf(p.run({ kind: 'crash-later' }));
    expect(isWorkerExitError(error)).toBe(true);
    expect((error as Error).message).toMatch(/boom in a timer/);
    await expect(p.run({ kind: 'add', a: 3, b: 3 })).resolves.toBe(6);
  });

  it('a task that crashes its thread before the thread\'s "ready" arrives is a crash, not a load failure', async () => {
    // A thread's 'error' event and its 'ready' message travel on different ports; this fixture
    // holds 'ready' back so the crash always arrives first.
    const p = pool({ filename: fixture('late-ready.mjs'), maxThreads: 1 });
    const error = await settleOf(p.run({ kind: 'crash-later' }));
    expect(isWorkerExitError(error)).toBe(true);
    expect((error as Error).message).toMatch(/boom in a timer/);
    await expect(p.run({ kind: 'add', a: 2, b: 5 })).resolves.toBe(7);
  });
});

describe('createPool: resource limits', () => {
  it('a thread that runs out of its heap limit rejects its task with WorkerExitError and is replaced', async () => {
    const p = pool({ maxThreads: 1, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } });
    const error = await settleOf(p.run({ kind: 'hog' }));
    expect(isWorkerExitError(error)).toBe(true);
    expect(String((error as Error).cause)).toMatch(/memory/i);
    await expect(p.run({ kind: 'add', a: 4, b: 4 })).resolves.toBe(8);
  });
});

describe('createPool: pipelined tasks (handed to a thread before it is free)', () => {
  async function warmPool(): Promise<{ p: Pool; threadId: number }> {
    const p = pool({ maxThreads: 1, minThreads: 1 });
    // Short tasks bring the run-time average under the pipelining threshold.
    await Promise.all(Array.from({ length: 200 }, (_, i) => p.run({ kind: 'add', a: i, b: 0 })));
    return { p, threadId: await p.run<number>({ kind: 'thread' }) };
  }

  it('cancels a handed-over task that has not started without replacing the thread', async () => {
    const { p, threadId } = await warmPool();
    const g = gate();
    const blocker = p.run({ kind: 'gate', gate: g.cells, value: 'blocker' });
    const controller = new AbortController();
    const victim = p.run({ kind: 'echo', value: 'victim' }, { signal: controller.signal });
    const after = p.run({ kind: 'echo', value: 'after' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(p.stats().inFlight).toBe(3);
    controller.abort();
    expect(isTaskCancelledError(await settleOf(victim))).toBe(true);
    g.open();
    await expect(blocker).resolves.toBe('blocker');
    await expect(after).resolves.toBe('after');
    await expect(p.run({ kind: 'thread' })).resolves.toBe(threadId);
  });

  it('hands tasks a crashed thread never started to a new thread', async () => {
    const { p } = await warmPool();
    const crash = settleOf(p.run({ kind: 'exit', code: 1 }));
    const followers = Array.from({ length: 5 }, (_, i) => p.run({ kind: 'echo', value: i }));
    expect(isWorkerExitError(await crash)).toBe(true);
    await expect(Promise.all(followers)).resolves.toEqual([0, 1, 2, 3, 4]);
  });
});

describe('createPool: backpressure and closing', () => {
  it('rejects beyond maxQueue with QueueFullError, exposes needsDrain and emits drain', async () => {
    const p = pool({ maxThreads: 1, maxQueue: 2, pipelineDepth: 0 });
    let drains = 0;
    p.on('drain', () => drains++);
    const g = gate();
    const runs = [p.run({ kind: 'gate', gate: g.cells, value: 0 })];
    await new Promise((resolve) => setImmediate(resolve));
    runs.push(p.run({ kind: 'echo', value: 1 }), p.run({ kind: 'echo', value: 2 }));
    expect(p.needsDrain).toBe(true);
    const error = await settleOf(p.run({ kind: 'echo', value: 3 }));
    expect(isQueueFullError(error)).toBe(true);
    g.open();
    await expect(Promise.all(runs)).resolves.toEqual([0, 1, 2]);
    expect(p.needsDrain).toBe(false);
    expect(drains).toBe(1);
    expect(p.stats().rejected).toBe(1);
  });

  it('close() drains queued and running tasks, then rejects new ones', async () => {
    const p = pool({ maxThreads: 1 });
    const runs = [p.run({ kind: 'sleep', ms: 50, value: 'a' }), p.run({ kind: 'echo', value: 'b' })];
    const closing = p.close();
    expect(isPoolClosedError(await settleOf(p.run({ kind: 'echo', value: 'c' })))).toBe(true);
    await expect(Promise.all(runs)).resolves.toEqual(['a', 'b']);
    await closing;
    expect(p.threads).toBe(0);
  });

  it('close({ force: true }) rejects queued and running tasks and terminates threads', async () => {
    const p = pool({ maxThreads: 1 });
    const running = settleOf(p.run({ kind: 'hang' }));
    const queued = settleOf(p.run({ kind: 'echo', value: 'never' }));
    await new Promise((resolve) => setTimeout(resolve, 30));
    await p.close({ force: true });
    expect(isPoolClosedError(await running)).toBe(true);
    expect(isPoolClosedError(await queued)).toBe(true);
    expect(p.threads).toBe(0);
  });

  it('close() still runs tasks queued before any thread existed', async () => {
    const p = pool({ minThreads: 0, maxThreads: 1 });
    const queued = p.run({ kind: 'echo', value: 'queued' });
    const closing = p.close();
    await expect(queued).resolves.toBe('queued');
    await closing;
  });

  it('ends threads above minThreads after idleTimeoutMs', async () => {
    const p = pool({ minThreads: 0, maxThreads: 2, idleTimeoutMs: 40 });
    const created: number[] = [];
    const exited: number[] = [];
    p.on('workerCreate', ({ threadId }) => created.push(threadId));
    const allExited = new Promise<void>((resolve) => {
      p.on('workerExit', ({ threadId }) => {
        exited.push(threadId);
        if (exited.length === 2) resolve();
      });
    });
    await Promise.all([p.run({ kind: 'sleep', ms: 30 }), p.run({ kind: 'sleep', ms: 30 })]);
    expect(created).toHaveLength(2);
    await allExited;
    expect(p.threads).toBe(0);
    expect(exited.sort()).toEqual(created.sort());
    await expect(p.run({ kind: 'add', a: 1, b: 2 })).resolves.toBe(3);
  });

  it('supports await using', async () => {
    let p: Pool | undefined;
    {
      await using scoped = createPool({ filename: tasksFile, maxThreads: 1 });
      p = scoped;
      await expect(scoped.run({ kind: 'add', a: 1, b: 1 })).resolves.toBe(2);
    }
    expect(p.threads).toBe(0);
  });
});

describe('createPool: property', () => {
  it('every task settles exactly once with its result or a typed error, and the counts add up', async () => {
    type Kind = 'add' | 'sleep' | 'throw' | 'exit' | 'hang';
    type Cancel = 'none' | 'now' | 'tick' | 'later' | 'timeout';
    const step = fc.record({
      kind: fc.constantFrom<Kind>('add', 'add', 'add', 'sleep', 'throw', 'exit', 'hang'),
      cancel: fc.constantFrom<Cancel>('none', 'none', 'now', 'tick', 'later', 'timeout'),
      priority: fc.integer({ min: -1, max: 1 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 0, max: 4 }),
        async (steps, maxThreads, pipelineDepth) => {
          const p = createPool({ filename: tasksFile, maxThreads, pipelineDepth, maxQueue: 20 });
          try {
            const settledTimes = new Array<number>(steps.length).fill(0);
            const wrong: string[] = [];
            const allowed = (e: unknown): boolean =>
              isTaskCancelledError(e) || isTaskTimeoutError(e) || isWorkerExitError(e) || isQueueFullError(e);
            const runs = steps.map((s, i) => {
              const controller = new AbortController();
              // A hanging task is always cancelled somehow, so the run ends.
              const cancel: Cancel = s.kind === 'hang' && s.cancel === 'none' ? 'timeout' : s.cancel;
              const task =
                s.kind === 'add'
                  ? { kind: 'add', a: i, b: 1 }
                  : s.kind === 'sleep'
                    ? { kind: 'sleep', ms: 5, value: i }
                    : s.kind === 'throw'
                      ? { kind: 'throw', message: `t${i}` }
                      : s.kind === 'exit'
                        ? { kind: 'exit', code: 9 }
                        : { kind: 'hang' };
              const promise = p.run(task, {
                signal: controller.signal,
                priority: s.priority,
                ...(cancel === 'timeout' ? { timeoutMs: 20 } : {}),
              });
              if (cancel === 'now') controller.abort();
              else if (cancel === 'tick') setImmediate(() => controller.abort());
              else if (cancel === 'later') setTimeout(() => controller.abort(), 10);
              return promise.then(
                (value) => {
                  settledTimes[i]!++;
                  const expected = s.kind === 'add' ? i + 1 : s.kind === 'sleep' ? i : undefined;
                  if (value !== expected) wrong.push(`task ${i} (${s.kind}) resolved with ${String(value)}`);
                },
                (error: unknown) => {
                  settledTimes[i]!++;
                  const ok = allowed(error) || (s.kind === 'throw' && (error as Error).message === `t${i}`);
                  if (!ok) wrong.push(`task ${i} (${s.kind}) rejected with ${String(error)}`);
                  if (s.kind === 'add' && cancel === 'none' && !isWorkerExitError(error) && !isQueueFullError(error)) {
                    wrong.push(`task ${i} (add, not cancelled) rejected with ${String(error)}`);
                  }
                },
              );
            });
            await Promise.all(runs);
            expect(wrong).toEqual([]);
            expect(settledTimes.every((n) => n === 1)).toBe(true);
            const stats = p.stats();
            expect(stats.completed + stats.failed + stats.cancelled + stats.timedOut + stats.rejected).toBe(steps.length);
            expect(stats.inFlight).toBe(0);
            expect(stats.queueSize).toBe(0);
            await expect(p.run({ kind: 'add', a: 1, b: 1 })).resolves.toBe(2);
            // Draining close resolves only once every slot has been given back (no leaked slot).
            await p.close();
            expect(p.threads).toBe(0);
          } finally {
            await p.close({ force: true });
          }
        },
      ),
      { numRuns: 15 },
    );
  }, 60_000);
});
