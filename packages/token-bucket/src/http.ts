// Header values for HTTP servers: the IETF RateLimit / RateLimit-Policy fields
// (draft-ietf-httpapi-ratelimit-headers, structured-field lists such as
// `"default";q=100;w=60`) and Retry-After in whole seconds.
import { InvalidArgumentError } from './errors.js';
import type { RateLimitResult } from './types.js';

export interface HeaderPolicy {
  /** Policy name, quoted in the header. Default `'default'`. */
  name?: string;
  /** Quota: requests (tokens) allowed per window. Default: the result's `limit`. */
  quota?: number;
  /** The window the quota applies to, in ms (token bucket: the time to refill it, capacity / rate; sliding window: its length). */
  windowMs: number;
}

function quote(name: string): string {
  if (!/^[\x20-\x7e]*$/.test(name)) throw new InvalidArgumentError(`policy name must be printable ASCII, got ${JSON.stringify(name)}`);
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function seconds(ms: number): number {
  return ms > 0 ? Math.ceil(ms / 1000) : 0;
}

/** `RateLimit-Policy` value, e.g. `"default";q=100;w=60` (several policies comma-separated). */
export function rateLimitPolicyHeader(policies: HeaderPolicy | readonly HeaderPolicy[], limit?: number): string {
  const list: readonly HeaderPolicy[] = Array.isArray(policies) ? policies : [policies as HeaderPolicy];
  return list
    .map((p) => {
      const quota = p.quota ?? limit;
      if (quota === undefined || !(quota >= 0)) throw new InvalidArgumentError('quota must be a number >= 0');
      if (!(p.windowMs > 0)) throw new InvalidArgumentError('windowMs must be a number > 0');
      return `${quote(p.name ?? 'default')};q=${Math.floor(quota)};w=${seconds(p.windowMs)}`;
    })
    .join(', ');
}

/** `RateLimit` value, e.g. `"default";r=50;t=30`: remaining quota and seconds until it is whole again. */
export function rateLimitHeader(result: RateLimitResult, name = 'default'): string {
  return `${quote(name)};r=${Math.max(0, Math.floor(result.remaining))};t=${seconds(result.resetMs)}`;
}

/** `Retry-After` in whole seconds (rounded up, at least 1), or undefined when the call was allowed. */
export function retryAfterHeader(result: RateLimitResult): string | undefined {
  if (result.allowed) return undefined;
  return String(Math.max(1, seconds(result.retryAfterMs)));
}

/** All three headers for one response; `Retry-After` only when the call was rejected. */
export function rateLimitHeaders(result: RateLimitResult, policy: HeaderPolicy): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Policy': rateLimitPolicyHeader(policy, result.limit),
    RateLimit: rateLimitHeader(result, policy.name),
  };
  const retryAfter = retryAfterHeader(result);
  if (retryAfter !== undefined) headers['Retry-After'] = retryAfter;
  return headers;
}
