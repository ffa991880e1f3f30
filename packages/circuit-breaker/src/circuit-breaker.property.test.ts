import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { circuitBreaker } from './circuit-breaker.js';
import { isBrokenCircuitError } from './errors.js';
import { FakeClock } from './fake-clock.test-helper.js';

type Command = { kind: 'call'; fails: boolean } | { kind: 'advance'; ms: number } | { kind: 'read' };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.boolean().map((fails): Command => ({ kind: 'call', fails })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 150 }).map((ms): Command => ({ kind: 'advance', ms })) },
  { weight: 1, arbitrary: fc.constant<Command>({ kind: 'read' }) },
);

/** A deliberately naive model of the breaker: plain arrays, recomputed every time. */
class Model {
  state: 'closed' | 'open' | 'half-open' = 'closed';
  outcomes: boolean[] = [];
  openUntil = 0;
  probes: boolean[] = [];
  constructor(
    readonly size: number,
    readonly minimumCalls: number,
    readonly threshold: number,
    readonly openDurationMs: number,
    readonly permittedCalls: number,
  ) {}

  refresh(now: number): void {
    if (this.state === 'open' && now >= this.openUntil) {
      this.state = 'half-open';
      this.probes = [];
    }
  }

  /** Returns whether the call ran. */
  call(fails: boolean, now: number): boolean {
    this.refresh(now);
    if (this.state === 'open') return false;
    if (this.state === 'closed') {
      this.outcomes = [...this.outcomes, fails].slice(-this.size);
      const failures = this.outcomes.filter(Boolean).length;
      if (this.outcomes.length >= this.minimumCalls && failures / this.outcomes.length >= this.threshold) this.open(now);
      return true;
    }
    this.probes.push(fails);
    if (this.probes.length === this.permittedCalls) {
      if (this.probes.filter(Boolean).length / this.probes.length >= this.threshold) this.open(now);
      else {
        this.state = 'closed';
        this.outcomes = [];
      }
    }
    return true;
  }

  open(now: number): void {
    this.state = 'open';
    this.openUntil = now + this.openDurationMs;
  }
}

describe('breaker vs a naive model (sequential calls, fake clock)', () => {
  it('property: state, admissions and window contents always match the model', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(0.25, 0.5, 0.75, 1),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(command, { maxLength: 80 }),
        async (size, minimumSeed, threshold, openDurationMs, permittedCalls, commands) => {
          const minimumCalls = Math.min(size, minimumSeed);
          const clock = new FakeClock();
          const breaker = circuitBreaker({
            window: { type: 'count', size },
            minimumCalls,
            failureRateThreshold: threshold,
            openDurationMs,
            halfOpen: { permittedCalls },
            clock,
          });
          const model = new Model(size, minimumCalls, threshold, openDurationMs, permittedCalls);
          // One line per step, from the breaker and from the model; compared at the end.
          const actual: unknown[] = [];
          const expected: unknown[] = [];
          for (const step of commands) {
            let ran: boolean | undefined;
            let modelRan: boolean | undefined;
            let rejectedTyped: boolean | undefined;
            if (step.kind === 'advance') clock.advance(step.ms);
            else if (step.kind === 'read') model.refresh(clock.now());
            else {
              ran = false;
              const outcome = await breaker
                .execute(() => {
                  ran = true;
                  return step.fails ? Promise.reject(new Error('x')) : Promise.resolve('y');
                })
                .catch((error: unknown) => error);
              modelRan = model.call(step.fails, clock.now());
              rejectedTyped = isBrokenCircuitError(outcome);
            }
            model.refresh(clock.now());
            const window = breaker.stats().window;
            const inClosed = model.state === 'closed';
            actual.push({ ran, rejected: rejectedTyped, state: breaker.state, window: inClosed ? [window.calls, window.failures] : null });
            expected.push({
              ran: modelRan,
              rejected: modelRan === undefined ? undefined : !modelRan,
              state: model.state,
              window: inClosed ? [model.outcomes.length, model.outcomes.filter(Boolean).length] : null,
            });
          }
          expect(actual).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
