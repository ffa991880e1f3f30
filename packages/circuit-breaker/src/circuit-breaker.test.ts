import { afterEach, describe, expect, it, vi } from 'vitest';
import { exponentialBackoff } from './backoff.js';
import { circuitBreaker } from './circuit-breaker.js';
import type { CircuitBreakerEvents, CircuitBreakerOptions , CircuitBreaker} from './circuit-breaker.js';
import { BrokenCircuitError, CircuitTimeoutError, isBrokenCircuitError, isCircuitTimeoutError } from './errors.js';
import { FakeClock, boom, flush, ok } from './fake-clock.test-helper.js';

/** A breaker on a fake clock that opens after 2 of 4 calls fail. */
function setup(options: CircuitBreakerOptions = {}): { clock: FakeClock; breaker: CircuitBreaker } {
  const clock = new FakeClock();
  const breaker = circuitBreaker({
    window: { type: 'count', size: 4 },
    minimumCalls: 4,
    openDurationMs: 1000,
    clock,
    ...options,
  });
  return { clock, breaker };
}

async function settle(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => value,
    (error: unknown) => error,
  );
}

async function trip(breaker: CircuitBreaker, calls = 4): Promise<void> {
  for (let i = 0; i < calls; i++) await settle(breaker.execute(boom));
}

/** Records every event of a breaker, in order, as "name:detail" strings. */
function recordEvents(breaker: CircuitBreaker): string[] {
  const seen: string[] = [];
  breaker.on('stateChange', (e) => seen.push(`stateChange:${e.from}->${e.to}:${e.reason}`));
  breaker.on('success', () => seen.push('success'));
  breaker.on('failure', (e) => seen.push(`failure:${e.failure.reason}`));
  breaker.on('rejected', (e) => seen.push(`rejected:${e.error.state}`));
  breaker.on('slowCall', (e) => seen.push(`slowCall:${e.failed ? 'failed' : 'ok'}`));
  return seen;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('options', () => {
  const bad: [string, CircuitBreakerOptions, typeof TypeError | typeof RangeError, RegExp][] = [
    ['window.size 0', { window: { type: 'count', size: 0 } }, RangeError, /window\.size/],
    ['window.size 1.5', { window: { type: 'count', size: 1.5 } }, RangeError, /window\.size/],
    ['window.type', { window: { type: 'sliding' } as never }, TypeError, /window\.type/],
    ['window.durationMs', { window: { type: 'time', durationMs: 0 } }, RangeError, /window\.durationMs/],
    ['window.buckets', { window: { type: 'time', durationMs: 1000, buckets: 0 } }, RangeError, /window\.buckets/],
    ['failureRateThreshold 0', { failureRateThreshold: 0 }, RangeError, /failureRateThreshold/],
    ['failureRateThreshold 1.5', { failureRateThreshold: 1.5 }, RangeError, /failureRateThreshold/],
    ['failureRateThreshold string', { failureRateThreshold: '0.5' as never }, TypeError, /failureRateThreshold/],
    ['slowCallRateThreshold alone', { slowCallRateThreshold: 0.5 }, TypeError, /slowCallDurationMs/],
    ['slowCallDurationMs', { slowCallDurationMs: -1 }, RangeError, /slowCallDurationMs/],
    ['minimumCalls above size', { window: { type: 'count', size: 5 }, minimumCalls: 6 }, RangeError, /minimumCalls/],
    ['openDurationMs', { openDurationMs: -1 }, RangeError, /openDurationMs/],
    ['both durations', { openDurationMs: 1, backoff: () => 1 }, TypeError, /openDurationMs or backoff/],
    ['halfOpen.permittedCalls', { halfOpen: { permittedCalls: 0 } }, RangeError, /permittedCalls/],
    ['halfOpen.maxWaitMs', { halfOpen: { maxWaitMs: 0 } }, RangeError, /maxWaitMs/],
    ['halfOpen.whenFull', { halfOpen: { whenFull: 'queue' as never } }, TypeError, /whenFull/],
    ['isFailure', { isFailure: true as never }, TypeError, /isFailure/],
    ['timeoutMs', { timeoutMs: 0 }, RangeError, /timeoutMs/],
    ['clock', { clock: {} as never }, TypeError, /clock\.now/],
    ['initialState', { initialState: { version: 2 } as never }, TypeError, /initialState\.version/],
  ];
  it.each(bad)('rejects %s at construction', (_label, options, errorType, message) => {
    expect(() => circuitBreaker(options)).toThrow(errorType);
    expect(() => circuitBreaker(options)).toThrow(message);
  });

  it('has working defaults', async () => {
    const breaker = circuitBreaker();
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().window).toMatchObject({ calls: 1, failures: 0 });
  });

  it('rejects a non-function instead of counting it as a failure', async () => {
    const { breaker } = setup();
    await expect(breaker.execute('nope' as never)).rejects.toThrow(TypeError);
    expect(breaker.stats().totals.failures).toBe(0);
  });
});

describe('closed → open', () => {
  it('opens when the failure rate reaches the threshold, only once minimumCalls are in', async () => {
    const { breaker } = setup();
    const events = recordEvents(breaker);
    await trip(breaker, 3);
    expect(breaker.state).toBe('closed'); // 3 failures, but fewer than minimumCalls (4)
    await settle(breaker.execute(ok));
    expect(breaker.state).toBe('open'); // 3 of 4 failed ≥ 50 %
    expect(events.at(-1)).toBe('stateChange:closed->open:failure-rate');
  });

  it('stays closed below the threshold and forgets old failures (count window)', async () => {
    const { breaker } = setup({ failureRateThreshold: 0.75 });
    await trip(breaker, 2);
    for (let i = 0; i < 10; i++) await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().window).toMatchObject({ calls: 4, failures: 0 });
  });

  it('records the outcome before the caller continues', async () => {
    const { breaker } = setup({ minimumCalls: 1, window: { type: 'count', size: 1 } });
    await expect(breaker.execute(boom)).rejects.toThrow('boom');
    expect(breaker.state).toBe('open');
  });

  it('hands back fn\'s own promise on the hot path', async () => {
    const { breaker } = setup();
    const promise = Promise.resolve('mine');
    expect(breaker.execute(() => promise)).toBe(promise);
    await promise;
    expect(breaker.stats().totals.successes).toBe(1);
  });

  it('counts a synchronous throw from fn as a failure', async () => {
    const { breaker } = setup({ minimumCalls: 1 });
    await expect(
      breaker.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(breaker.state).toBe('open');
  });

  it('opens on the slow-call rate, with slowCall events', async () => {
    const { clock, breaker } = setup({ slowCallDurationMs: 100, slowCallRateThreshold: 0.5 });
    const events = recordEvents(breaker);
    const slow = async (): Promise<string> => {
      await Promise.resolve();
      clock.advance(150);
      return 'slow';
    };
    await breaker.execute(slow);
    await breaker.execute(ok);
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    await breaker.execute(slow); // 2 of 4 slow
    expect(breaker.state).toBe('open');
    expect(events).toEqual([
      'slowCall:ok',
      'success',
      'success',
      'success',
      'slowCall:ok',
      'success',
      'stateChange:closed->open:slow-call-rate',
    ]);
    expect(breaker.stats().totals).toMatchObject({ successes: 4, slowCalls: 2, failures: 0 });
  });

  it('a slow failure counts as both failed and slow', async () => {
    const { clock, breaker } = setup({ slowCallDurationMs: 10, minimumCalls: 1, window: { type: 'count', size: 1 }, failureRateThreshold: 1 });
    const events = recordEvents(breaker);
    await settle(
      breaker.execute(async () => {
        await Promise.resolve();
        clock.advance(20);
        throw new Error('late');
      }),
    );
    expect(events).toEqual(['slowCall:failed', 'failure:error', 'stateChange:closed->open:failure-rate']);
  });

  it('time window: failures age out as the clock moves, bucket by bucket', async () => {
    const { clock, breaker } = setup({ window: { type: 'time', durationMs: 1000, buckets: 4 }, minimumCalls: 3 });
    await trip(breaker, 2); // t = 0
    clock.advance(500);
    await breaker.execute(ok); // t = 500
    expect(breaker.stats().window).toMatchObject({ calls: 3, failures: 2 });
    expect(breaker.state).toBe('open'); // 2 of 3 ≥ 50 %

    const fresh = setup({ window: { type: 'time', durationMs: 1000, buckets: 4 }, minimumCalls: 3 });
    await trip(fresh.breaker, 2);
    fresh.clock.advance(1000); // the failures' bucket has left the window
    expect(fresh.breaker.stats().window).toMatchObject({ calls: 0, failures: 0 });
    await fresh.breaker.execute(ok);
    await fresh.breaker.execute(ok);
    await fresh.breaker.execute(ok);
    expect(fresh.breaker.state).toBe('closed');
  });
});

describe('open', () => {
  it('rejects without calling fn, with a typed error', async () => {
    const { breaker } = setup();
    await trip(breaker);
    const fn = vi.fn(ok);
    const error = await settle(breaker.execute(fn));
    expect(fn).not.toHaveBeenCalled();
    expect(isBrokenCircuitError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_CIRCUIT_BROKEN', state: 'open', breaker: 'circuit-breaker' });
    expect(isBrokenCircuitError(new Error('x'))).toBe(false);
    expect(breaker.stats().totals.rejections).toBe(1);
  });

  it('stackless rejections reuse one preallocated error per state', async () => {
    const { breaker } = setup({ stacklessRejections: true });
    await trip(breaker);
    const first = await settle(breaker.execute(ok));
    const second = await settle(breaker.execute(ok));
    expect(first).toBeInstanceOf(BrokenCircuitError);
    expect(second).toBe(first);
    expect((first as Error).stack?.split('\n')).toHaveLength(1);
    // The shared rejected promise is pre-handled: dropping it raises no unhandled rejection.
    void breaker.execute(ok);
    await flush();
  });

  it('reads half-open once the open duration has elapsed, without any call or timer', async () => {
    const { clock, breaker } = setup();
    const events = recordEvents(breaker);
    await trip(breaker);
    clock.advance(999);
    expect(breaker.state).toBe('open');
    expect(breaker.stats().openRemainingMs).toBe(1);
    clock.advance(1);
    expect(breaker.state).toBe('half-open');
    expect(events.at(-1)).toBe('stateChange:open->half-open:open-elapsed');
  });

  it('open duration grows with backoff on each failed probe and resets on close', async () => {
    const { clock, breaker } = setup({ openDurationMs: undefined, backoff: exponentialBackoff({ initialMs: 100, maxMs: 250 }) } as never);
    await trip(breaker);
    expect(breaker.stats().openRemainingMs).toBe(100);
    clock.advance(100);
    await settle(breaker.execute(boom)); // probe fails
    expect(breaker.stats()).toMatchObject({ state: 'open', openRemainingMs: 200, openAttempt: 2 });
    clock.advance(200);
    await settle(breaker.execute(boom));
    expect(breaker.stats()).toMatchObject({ state: 'open', openRemainingMs: 250, openAttempt: 3 });
    clock.advance(250);
    await breaker.execute(ok);
    expect(breaker.stats()).toMatchObject({ state: 'closed', openAttempt: 0 });
    await trip(breaker);
    expect(breaker.stats().openRemainingMs).toBe(100);
  });
});

describe('half-open', () => {
  async function halfOpen(options: CircuitBreakerOptions): Promise<{ clock: FakeClock; breaker: CircuitBreaker }> {
    const s = setup(options);
    await trip(s.breaker);
    s.clock.advance(1000);
    expect(s.breaker.state).toBe('half-open');
    return s;
  }

  it.each([1, 3, 50])('admits exactly %i probes among 10,000 concurrent callers; the rest are rejected', async (permittedCalls) => {
    const { breaker } = await halfOpen({ halfOpen: { permittedCalls } });
    let started = 0;
    const releases: (() => void)[] = [];
    const probe = (): Promise<string> => {
      started++;
      return new Promise<string>((resolve) => releases.push(() => resolve('probe')));
    };
    const calls = Array.from({ length: 10_000 }, () => settle(breaker.execute(probe)));
    expect(started).toBe(permittedCalls);
    expect(breaker.stats().halfOpen).toMatchObject({ admitted: permittedCalls, completed: 0 });
    for (const release of releases) release();
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === 'probe')).toHaveLength(permittedCalls);
    const rejected = results.filter((r) => isBrokenCircuitError(r));
    expect(rejected).toHaveLength(10_000 - permittedCalls);
    expect((rejected[0] as BrokenCircuitError).state).toBe('half-open');
    expect(breaker.state).toBe('closed');
  });

  it('with whenFull: "wait", 10,000 callers wait for the verdict of exactly N probes, then run', async () => {
    const { breaker } = await halfOpen({ halfOpen: { permittedCalls: 5, whenFull: 'wait' } });
    let started = 0;
    const releases: (() => void)[] = [];
    const call = (): Promise<string> => {
      started++;
      if (breaker.stats().state === 'half-open') return new Promise<string>((resolve) => releases.push(() => resolve('probe')));
      return Promise.resolve('after');
    };
    const calls = Array.from({ length: 10_000 }, () => breaker.execute(call));
    await flush();
    expect(started).toBe(5);
    expect(breaker.stats().halfOpen.waiting).toBe(9_995);
    for (const release of releases) release();
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === 'probe')).toHaveLength(5);
    expect(results.filter((r) => r === 'after')).toHaveLength(9_995);
    expect(breaker.state).toBe('closed');
  });

  it('with whenFull: "wait", a failed verdict rejects the waiters (and a waiter can give up)', async () => {
    const { breaker } = await halfOpen({ halfOpen: { permittedCalls: 1, whenFull: 'wait' } });
    let fail!: () => void;
    const probe = breaker.execute(() => new Promise<never>((_, reject) => (fail = () => reject(new Error('still down')))));
    const waiter = settle(breaker.execute(ok));
    const controller = new AbortController();
    const quitter = settle(breaker.execute(ok, { signal: controller.signal }));
    controller.abort(new Error('gave up'));
    expect(await quitter).toMatchObject({ message: 'gave up' });
    expect(breaker.stats().halfOpen.waiting).toBe(1);
    fail();
    await expect(probe).rejects.toThrow('still down');
    expect(await waiter).toBeInstanceOf(BrokenCircuitError);
    expect(breaker.state).toBe('open');
  });

  it('with whenFull: "wait", an ignored probe hands its slot to a waiting caller', async () => {
    const { breaker } = await halfOpen({ halfOpen: { permittedCalls: 1, whenFull: 'wait' }, ignore: (e) => (e as Error).message === 'ignore me' });
    let reject!: (error: Error) => void;
    const probe = settle(breaker.execute(() => new Promise<never>((_, r) => (reject = r))));
    const waiter = breaker.execute(ok);
    await flush();
    expect(breaker.stats().halfOpen.waiting).toBe(1);
    reject(new Error('ignore me'));
    await expect(waiter).resolves.toBe('ok'); // it became the probe, and its success closed the breaker
    expect(await probe).toMatchObject({ message: 'ignore me' });
    expect(breaker.state).toBe('closed');
  });

  it('judges the probes by the failure threshold once all N completed', async () => {
    const { breaker } = await halfOpen({ halfOpen: { permittedCalls: 4 }, failureRateThreshold: 0.5 });
    const events = recordEvents(breaker);
    await breaker.execute(ok);
    await settle(breaker.execute(boom));
    await breaker.execute(ok);
    expect(breaker.state).toBe('half-open'); // 3 of 4 done
    await breaker.execute(ok); // 1 of 4 failed < 50 %
    expect(breaker.state).toBe('closed');
    expect(events.at(-1)).toBe('stateChange:half-open->closed:probes-succeeded');
    expect(breaker.stats().window.calls).toBe(0); // closing starts a fresh window
  });

  it('re-opens when the probes fail', async () => {
    const { breaker } = await halfOpen({ halfOpen: { permittedCalls: 2 } });
    const events = recordEvents(breaker);
    await breaker.execute(ok);
    await settle(breaker.execute(boom));
    expect(breaker.state).toBe('open');
    expect(events.at(-1)).toBe('stateChange:half-open->open:probes-failed');
  });

  it('an ignored probe frees its slot for another caller', async () => {
    const { breaker } = await halfOpen({ ignore: (e) => (e as Error).message === 'ignore me' });
    await settle(breaker.execute(() => Promise.reject(new Error('ignore me'))));
    expect(breaker.state).toBe('half-open');
    expect(breaker.stats().halfOpen).toMatchObject({ admitted: 0, completed: 0 });
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
  });

  it('maxWaitMs: hung probes re-open the breaker, at the deadline, whenever it is read', async () => {
    const { clock, breaker } = await halfOpen({ halfOpen: { permittedCalls: 2, maxWaitMs: 500 } });
    const events = recordEvents(breaker);
    let finishHung!: () => void;
    const hung = breaker.execute(() => new Promise<string>((resolve) => (finishHung = () => resolve('late'))));
    clock.advance(499);
    expect(breaker.state).toBe('half-open');
    clock.advance(1);
    expect(breaker.state).toBe('open');
    expect(events.at(-1)).toBe('stateChange:half-open->open:half-open-max-wait');
    expect(breaker.stats().openRemainingMs).toBe(1000);
    // The late probe belongs to an old generation: it must not count in the new half-open.
    clock.advance(1000);
    expect(breaker.state).toBe('half-open');
    finishHung();
    await expect(hung).resolves.toBe('late');
    expect(breaker.stats().halfOpen).toMatchObject({ admitted: 0, completed: 0 });
    expect(breaker.state).toBe('half-open');
  });

  it('a half-open state with no probe yet does not time out', async () => {
    const { clock, breaker } = await halfOpen({ halfOpen: { maxWaitMs: 10 } });
    clock.advance(10_000);
    expect(breaker.state).toBe('half-open');
  });
});

describe('classification', () => {
  it('isFailure decides which errors count; others count as successes', async () => {
    const { breaker } = setup({ isFailure: (e) => !(e instanceof TypeError), minimumCalls: 1, window: { type: 'count', size: 1 } });
    await settle(breaker.execute(() => Promise.reject(new TypeError('caller bug'))));
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().totals).toMatchObject({ successes: 1, failures: 0 });
    await settle(breaker.execute(boom));
    expect(breaker.state).toBe('open');
  });

  it('ignore leaves errors out entirely', async () => {
    const { breaker } = setup({ ignore: () => true });
    await trip(breaker, 10);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().window.calls).toBe(0);
    expect(breaker.stats().totals.ignored).toBe(10);
  });

  it('isResultFailure counts returned values as failures but still returns them', async () => {
    const { breaker } = setup({ isResultFailure: (r) => (r as { status: number }).status >= 500 });
    const events = recordEvents(breaker);
    for (let i = 0; i < 4; i++) await expect(breaker.execute(() => Promise.resolve({ status: 503 }))).resolves.toEqual({ status: 503 });
    expect(breaker.state).toBe('open');
    expect(events).toContain('failure:result');
  });

  it('a call admitted before a transition does not count after it', async () => {
    const { breaker } = setup({ minimumCalls: 1, window: { type: 'count', size: 1 } });
    let fail!: () => void;
    const old = breaker.execute(() => new Promise<never>((_, reject) => (fail = () => reject(new Error('old')))));
    breaker.forceOpen();
    breaker.close();
    fail();
    await expect(old).rejects.toThrow('old');
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().window.calls).toBe(0);
    expect(breaker.stats().totals.failures).toBe(1); // still visible in the totals
  });
});

describe('fallback', () => {
  it('is used for failures, failing results and rejections', async () => {
    const { breaker } = setup({ isResultFailure: (r) => r === 'bad' });
    const seen: string[] = [];
    const fallback = (f: { reason: string }): string => {
      seen.push(f.reason);
      return 'fallback';
    };
    await expect(breaker.execute(boom, { fallback })).resolves.toBe('fallback');
    await expect(breaker.execute(() => Promise.resolve('bad'), { fallback })).resolves.toBe('fallback');
    await expect(breaker.execute(boom, { fallback })).resolves.toBe('fallback');
    await expect(breaker.execute(boom, { fallback })).resolves.toBe('fallback');
    expect(breaker.state).toBe('open');
    await expect(breaker.execute(ok, { fallback })).resolves.toBe('fallback');
    expect(seen).toEqual(['error', 'result', 'error', 'error', 'rejected']);
  });

  it('is not used for errors the breaker did not count', async () => {
    const { breaker } = setup({ isFailure: (e) => !(e instanceof TypeError), ignore: (e) => e instanceof RangeError });
    const fallback = vi.fn(() => 'fallback');
    await expect(breaker.execute(() => Promise.reject(new TypeError('t')), { fallback })).rejects.toThrow(TypeError);
    await expect(breaker.execute(() => Promise.reject(new RangeError('r')), { fallback })).rejects.toThrow(RangeError);
    breaker.disable();
    await expect(breaker.execute(boom, { fallback })).rejects.toThrow('boom');
    expect(fallback).not.toHaveBeenCalled();
  });
});

describe('timeouts and signals', () => {
  it('timeoutMs aborts fn, rejects with CircuitTimeoutError and counts a failure', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { breaker } = setup({ timeoutMs: 50, minimumCalls: 1, window: { type: 'count', size: 1 } });
    const events = recordEvents(breaker);
    let seenSignal: AbortSignal | undefined;
    const call = settle(
      breaker.execute((signal) => {
        seenSignal = signal;
        return new Promise<never>(() => undefined);
      }),
    );
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(50);
    const error = await call;
    expect(isCircuitTimeoutError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_CIRCUIT_TIMEOUT', timeoutMs: 50 });
    expect(seenSignal?.aborted).toBe(true);
    expect(seenSignal?.reason).toBe(error);
    expect(events).toEqual(['failure:timeout', 'stateChange:closed->open:failure-rate']);
    expect(breaker.stats().totals.timeouts).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a call that finishes in time clears its timer; a per-call timeoutMs overrides', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { breaker } = setup({ timeoutMs: 50 });
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(vi.getTimerCount()).toBe(0);
    const call = settle(breaker.execute(() => new Promise<never>(() => undefined), { timeoutMs: 5 }));
    await vi.advanceTimersByTimeAsync(5);
    expect(await call).toBeInstanceOf(CircuitTimeoutError);
    const withFallback = breaker.execute(() => new Promise<string>(() => undefined), {
      fallback: (failure) => `fallback after ${failure.reason}`,
    });
    await vi.advanceTimersByTimeAsync(50);
    await expect(withFallback).resolves.toBe('fallback after timeout');
  });

  it('without timeoutMs no timer is ever created', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'setImmediate'] });
    const { breaker } = setup({ window: { type: 'time', durationMs: 1000 }, slowCallDurationMs: 10 });
    const pending = breaker.execute(() => new Promise<string>((resolve) => queueMicrotask(() => resolve('x'))));
    expect(vi.getTimerCount()).toBe(0);
    await pending;
    await trip(breaker);
    void settle(breaker.execute(ok));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an already-aborted signal rejects with its reason without calling fn or counting', async () => {
    const { breaker } = setup();
    const fn = vi.fn(ok);
    await expect(breaker.execute(fn, { signal: AbortSignal.abort(new Error('stop')) })).rejects.toThrow('stop');
    expect(fn).not.toHaveBeenCalled();
    expect(breaker.stats().totals).toMatchObject({ successes: 0, failures: 0, ignored: 0 });
  });

  it('fn gets the caller signal; an outcome after the caller aborted is ignored', async () => {
    const { breaker } = setup({ minimumCalls: 1 });
    const controller = new AbortController();
    const call = breaker.execute(
      (signal) =>
        new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
      { signal: controller.signal },
    );
    controller.abort(new Error('cancelled'));
    await expect(call).rejects.toThrow('cancelled');
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().totals.ignored).toBe(1);
  });

  it('with a timeout, caller abort rejects at once and is not counted', async () => {
    const { breaker } = setup({ minimumCalls: 1, timeoutMs: 60_000 });
    const controller = new AbortController();
    let inner: AbortSignal | undefined;
    const call = breaker.execute(
      (signal) => {
        inner = signal;
        return new Promise<never>(() => undefined);
      },
      { signal: controller.signal },
    );
    controller.abort(new Error('cancelled'));
    await expect(call).rejects.toThrow('cancelled');
    expect(inner?.aborted).toBe(true);
    expect(breaker.state).toBe('closed');
  });
});

describe('manual states', () => {
  it('disable: calls run, nothing is recorded or emitted, no transition', async () => {
    const { breaker } = setup();
    const events = recordEvents(breaker);
    breaker.disable();
    await trip(breaker, 10);
    expect(breaker.state).toBe('disabled');
    expect(breaker.stats().totals.failures).toBe(0);
    expect(events).toEqual(['stateChange:closed->disabled:manual']);
  });

  it('metrics-only: calls run and are recorded, the state never changes', async () => {
    const { breaker } = setup();
    breaker.metricsOnly();
    await trip(breaker, 10);
    expect(breaker.state).toBe('metrics-only');
    expect(breaker.stats().window).toMatchObject({ calls: 4, failures: 4, failureRate: 1 });
  });

  it('forceOpen rejects until another manual transition; open() half-opens after the duration', async () => {
    const { clock, breaker } = setup();
    breaker.forceOpen();
    clock.advance(1e9);
    expect(breaker.state).toBe('forced-open');
    expect(await settle(breaker.execute(ok))).toMatchObject({ state: 'forced-open' });
    breaker.open();
    expect(breaker.state).toBe('open');
    clock.advance(1000);
    expect(breaker.state).toBe('half-open');
    breaker.close();
    await expect(breaker.execute(ok)).resolves.toBe('ok');
  });

  it('openDurationMs: Infinity stays open until closed by hand', async () => {
    const { clock, breaker } = setup({ openDurationMs: Number.POSITIVE_INFINITY });
    await trip(breaker);
    clock.advance(1e12);
    expect(breaker.state).toBe('open');
    expect(breaker.toJSON().openRemainingMs).toBeNull();
  });
});

describe('events', () => {
  it('on() returns a disposer', async () => {
    const { breaker } = setup();
    const seen: CircuitBreakerEvents['success'][] = [];
    const off = breaker.on('success', (e) => seen.push(e));
    await breaker.execute(ok);
    off();
    off();
    await breaker.execute(ok);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.durationMs).toBe(0);
    expect(() => breaker.on('nope' as never, () => undefined)).toThrow(TypeError);
  });

  it('a listener added while calls are in flight hears them; removed, the quick path takes over again', async () => {
    const { breaker } = setup();
    const resolvers: ((value: string) => void)[] = [];
    const calls = Array.from({ length: 3 }, () => breaker.execute(() => new Promise<string>((resolve) => resolvers.push(resolve))));
    const seen: CircuitBreakerEvents['success'][] = [];
    const off = breaker.on('success', (e) => seen.push(e));
    for (const resolve of resolvers) resolve('y');
    await Promise.all(calls);
    expect(seen).toHaveLength(3);
    off();
    for (let i = 0; i < 5; i++) await breaker.execute(ok);
    expect(seen).toHaveLength(3);
    expect(breaker.stats().totals.successes).toBe(8);
    expect(breaker.stats().window).toMatchObject({ calls: 4, failures: 0 });
    // Successes evict failures from the full window: 1 of 4 stays closed, 2 of 4 opens.
    await settle(breaker.execute(boom));
    await breaker.execute(ok);
    expect(breaker.stats().window).toMatchObject({ calls: 4, failures: 1 });
    await settle(breaker.execute(boom));
    expect(breaker.state).toBe('open');
  });

  it('emits rejected with the error', async () => {
    const { breaker } = setup();
    const events = recordEvents(breaker);
    breaker.forceOpen();
    await settle(breaker.execute(ok));
    expect(events).toEqual(['stateChange:closed->forced-open:manual', 'rejected:forced-open']);
  });
});

describe('toJSON / initialState', () => {
  it('restores an open breaker with its remaining time, on another clock origin', async () => {
    const { clock, breaker } = setup();
    await trip(breaker);
    clock.advance(400);
    const snapshot = JSON.parse(JSON.stringify(breaker)) as ReturnType<CircuitBreaker['toJSON']>;
    expect(snapshot).toMatchObject({ version: 1, state: 'open', openRemainingMs: 600, openAttempt: 1 });
    const other = new FakeClock(5);
    const restored = circuitBreaker({ window: { type: 'count', size: 4 }, minimumCalls: 4, openDurationMs: 1000, clock: other, initialState: snapshot });
    expect(restored.state).toBe('open');
    other.advance(600);
    expect(restored.state).toBe('half-open');
  });

  it('restores a closed window so the next failure opens it', async () => {
    const { breaker } = setup();
    await trip(breaker, 1);
    await breaker.execute(ok);
    await settle(breaker.execute(boom));
    const restored = setup({ initialState: breaker.toJSON() }).breaker;
    expect(restored.stats().window).toMatchObject({ calls: 3, failures: 2 });
    await restored.execute(ok); // 2 of 4
    expect(restored.state).toBe('open');
  });

  it('restores a time window and manual states', async () => {
    const { breaker } = setup({ window: { type: 'time', durationMs: 1000, buckets: 5 }, minimumCalls: 10 });
    await trip(breaker, 3);
    const restored = setup({ window: { type: 'time', durationMs: 1000, buckets: 5 }, minimumCalls: 10, initialState: breaker.toJSON() }).breaker;
    expect(restored.stats().window).toMatchObject({ calls: 3, failures: 3 });
    breaker.forceOpen();
    expect(setup({ initialState: breaker.toJSON() }).breaker.state).toBe('forced-open');
  });

  it('rejects a malformed snapshot', () => {
    const good = setup().breaker.toJSON();
    expect(() => setup({ initialState: { ...good, state: 'ajar' as never } })).toThrow(/initialState\.state/);
    expect(() => setup({ initialState: { ...good, openAttempt: -1 } })).toThrow(/openAttempt/);
  });
});
