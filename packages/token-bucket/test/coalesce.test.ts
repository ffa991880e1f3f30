import { describe, expect, it } from 'vitest';
import { RedisTokenBucket, isSingleNodeClient } from '../src/index.js';
import { describeCoalescing } from './coalesce-suite.js';

describeCoalescing({
  name: 'RedisTokenBucket',
  createLimiter: ({ client, prefix, limit, coalesce, onStoreError, timeoutMs }) =>
    new RedisTokenBucket({
      client,
      prefix,
      capacity: limit,
      refillRate: 1,
      intervalMs: 3_600_000,
      coalesce,
      ...(onStoreError === undefined ? {} : { onStoreError }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    }),
});

describe('RedisTokenBucket coalescing: where it applies', () => {
  it('is for single-node clients only (a Cluster keeps one single-key script per call)', () => {
    expect(isSingleNodeClient({ isCluster: false })).toBe(true);
    expect(isSingleNodeClient({ isCluster: true })).toBe(false);
  });

  it('rejects a non-boolean coalesce option', () => {
    const client = { defineCommand: () => undefined, isCluster: false } as never;
    expect(() => new RedisTokenBucket({ client, capacity: 1, refillRate: 1, coalesce: 'yes' as never })).toThrow(/coalesce/);
    expect(() => new RedisTokenBucket({ client, policies: [{ capacity: 1, refillRate: 1 }], coalesce: 1 as never })).toThrow(/coalesce/);
  });
});
