import { describe, expect, it } from 'vitest';
import { rateLimitHeader, rateLimitHeaders, rateLimitPolicyHeader, retryAfterHeader } from './http.js';

describe('HTTP header values', () => {
  const allowed = { allowed: true, remaining: 7, retryAfterMs: 0, resetMs: 2_500, limit: 10 };
  const rejected = { allowed: false, remaining: 0, retryAfterMs: 1_200, resetMs: 9_100, limit: 10 };

  it('formats IETF RateLimit and RateLimit-Policy items', () => {
    expect(rateLimitPolicyHeader({ windowMs: 60_000 }, 100)).toBe('"default";q=100;w=60');
    expect(
      rateLimitPolicyHeader([
        { name: 'burst', quota: 10, windowMs: 1_000 },
        { name: 'hourly', quota: 1000, windowMs: 3_600_000 },
      ]),
    ).toBe('"burst";q=10;w=1, "hourly";q=1000;w=3600');
    expect(rateLimitHeader(allowed)).toBe('"default";r=7;t=3');
    expect(rateLimitHeader(rejected, 'api "v1"')).toBe('"api \\"v1\\"";r=0;t=10');
  });

  it('gives Retry-After in whole seconds, only for rejections', () => {
    expect(retryAfterHeader(allowed)).toBeUndefined();
    expect(retryAfterHeader(rejected)).toBe('2');
    expect(retryAfterHeader({ ...rejected, retryAfterMs: 1 })).toBe('1');
    expect(rateLimitHeaders(rejected, { windowMs: 10_000 })).toEqual({
      'RateLimit-Policy': '"default";q=10;w=10',
      RateLimit: '"default";r=0;t=10',
      'Retry-After': '2',
    });
    expect(Object.keys(rateLimitHeaders(allowed, { windowMs: 10_000 }))).not.toContain('Retry-After');
  });

  it('rejects bad policies', () => {
    expect(() => rateLimitPolicyHeader({ windowMs: 0 }, 1)).toThrow(/windowMs/);
    expect(() => rateLimitPolicyHeader({ windowMs: 10 })).toThrow(/quota/);
    expect(() => rateLimitHeader(allowed, 'naïve')).toThrow(/ASCII/);
  });
});
