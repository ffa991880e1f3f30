/** Every state a breaker can be in. */
export const CIRCUIT_STATES = ['closed', 'open', 'half-open', 'disabled', 'metrics-only', 'forced-open'] as const;

/**
 * - `closed`: calls run and are recorded; the breaker opens when a rate crosses its threshold.
 * - `open`: calls are rejected until the open duration has elapsed, then the breaker is half-open.
 * - `half-open`: exactly `permittedCalls` probes run; their verdict closes or re-opens the breaker.
 * - `disabled`: calls run, nothing is recorded, the state never changes by itself.
 * - `metrics-only`: calls run and are recorded (stats, events) but the state never changes by itself.
 * - `forced-open`: every call is rejected until a manual transition.
 */
export type CircuitState = (typeof CIRCUIT_STATES)[number];

/** Why the state changed. */
export type StateChangeReason =
  | 'failure-rate'
  | 'slow-call-rate'
  | 'open-elapsed'
  | 'probes-succeeded'
  | 'probes-failed'
  | 'half-open-max-wait'
  | 'manual';
