import { describe, expect, it } from 'vitest';
import { circuitBreaker } from './circuit-breaker.js';
import { wrap } from './compose.js';
import type { ExecutePolicy } from './compose.js';
import { isBrokenCircuitError } from './errors.js';
import { FakeClock, boom } from './fake-clock.test-helper.js';

/** A policy that logs entry/exit and hands fn a signal of its own (as a limiter or pool would). */
function tracing(name: string, log: string[]): ExecutePolicy & { lastSignalIn: AbortSignal | undefined } {
  const policy = {
    lastSignalIn: undefined as AbortSignal | undefined,
    async execute<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, options?: { signal?: AbortSignal }): Promise<T> {
      policy.lastSignalIn = options?.signal;
      const own = new AbortController();
      options?.signal?.addEventListener('abort', () => own.abort(options.signal?.reason), { once: true });
      log.push(`${name}:enter`);
      try {
        return await fn(own.signal);
      } finally {
        log.push(`${name}:exit`);
      }
    },
  };
  return policy;
}

describe('wrap', () => {
  it('runs policies outermost first and passes each layer its signal', async () => {
    const log: string[] = [];
    const outer = tracing('outer', log);
    const inner = tracing('inner', log);
    const controller = new AbortController();
    let fnSignal: AbortSignal | undefined;
    const result = await wrap(outer, inner).execute(
      (signal) => {
        fnSignal = signal;
        log.push('fn');
        return 42;
      },
      { signal: controller.signal },
    );
    expect(result).toBe(42);
    expect(log).toEqual(['outer:enter', 'inner:enter', 'fn', 'inner:exit', 'outer:exit']);
    expect(outer.lastSignalIn).toBe(controller.signal);
    expect(inner.lastSignalIn).not.toBe(controller.signal); // outer's own signal
    controller.abort(new Error('stop'));
    expect(fnSignal?.aborted).toBe(true); // the abort travelled through both layers
  });

  it('composes a circuit breaker: an open breaker short-circuits the inner layers', async () => {
    const log: string[] = [];
    const breaker = circuitBreaker({ window: { type: 'count', size: 1 }, minimumCalls: 1, clock: new FakeClock() });
    const pipeline = wrap(breaker, tracing('limiter', log));
    await expect(pipeline.execute(boom)).rejects.toThrow('boom');
    const rejected = await pipeline.execute(boom).catch((error: unknown) => error);
    expect(isBrokenCircuitError(rejected)).toBe(true);
    expect(log).toEqual(['limiter:enter', 'limiter:exit']);
    expect(pipeline.policies).toEqual([breaker, expect.anything()]);
  });

  it('nests, accepts no layers, and checks its arguments', async () => {
    const log: string[] = [];
    const nested = wrap(wrap(tracing('a', log)), tracing('b', log));
    await expect(nested.execute(() => 'x')).resolves.toBe('x');
    expect(log).toEqual(['a:enter', 'b:enter', 'b:exit', 'a:exit']);
    await expect(wrap().execute(() => 'bare')).resolves.toBe('bare');
    await expect(
      wrap().execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(() => wrap({} as never)).toThrow(/argument 0/);
  });
});
