export { CircuitBreaker, circuitBreaker } from './circuit-breaker.js';
export type {
  CallFailure,
  CircuitBreakerEventName,
  CircuitBreakerEvents,
  CircuitBreakerOptions,
  CircuitBreakerSnapshot,
  CircuitBreakerStats,
  ExecuteOptions,
  HalfOpenOptions,
  WindowOptions,
} from './circuit-breaker.js';
export { CIRCUIT_STATES } from './state.js';
export type { CircuitState, StateChangeReason } from './state.js';
export { BrokenCircuitError, CircuitTimeoutError, isBrokenCircuitError, isCircuitTimeoutError } from './errors.js';
export type { RejectedState } from './errors.js';
export { exponentialBackoff } from './backoff.js';
export type { ExponentialBackoffOptions } from './backoff.js';
export { wrap } from './compose.js';
export type { ExecutePolicy, WrappedPolicy } from './compose.js';
export { monotonicClock } from './clock.js';
export type { Clock } from './clock.js';
export type { WindowSnapshot } from './window.js';
