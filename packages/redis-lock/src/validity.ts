// Lease validity arithmetic (Redlock's rule, also applied to one Redis):
// the key's TTL started no earlier than the moment the request was sent, so a
// lease is valid until sentAt + ttl - drift on our monotonic clock, where drift
// covers the rate difference between our clock and Redis's expiry clock.

/** Margin for clock-rate drift: `ttlMs * driftFactor + 2` ms (the 2 ms covers timer granularity). */
export function driftMs(ttlMs: number, driftFactor: number): number {
  return ttlMs * driftFactor + 2;
}

/** When a lease whose request was sent at `sentAt` stops being valid, on the same clock. */
export function validUntil(sentAt: number, ttlMs: number, driftFactor: number): number {
  return sentAt + ttlMs - driftMs(ttlMs, driftFactor);
}

/** True when a lease valid until `until` still has at least `minValidityMs` left at `now`. */
export function hasMinValidity(until: number, now: number, minValidityMs: number): boolean {
  return until - now >= minValidityMs;
}
