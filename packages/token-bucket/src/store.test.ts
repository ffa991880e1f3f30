import { describe, expect, it } from 'vitest';
import { isInvalidArgumentError, isStoreUnavailableError } from './errors.js';
import { asStoreError, decideOnStoreError, emitStoreError, STORE_DENY_RETRY_MS, validateRedisClient, validateStorePolicy, validateStoreTimeout } from './store.js';
import { parseTakeArguments } from './token-bucket.js';
import type { StoreErrorEvent } from './types.js';

describe('the shared store-failure contract', () => {
  it('validates onStoreError and timeoutMs, naming the accepted values', () => {
    expect(validateStorePolicy('deny')).toBe('deny');
    const fallback = { tryTake: () => ({ allowed: true, remaining: 1, retryAfterMs: 0, resetMs: 0, limit: 2 }) };
    expect(validateStorePolicy(fallback)).toBe(fallback);
    expect(() => validateStorePolicy('maybe' as unknown as 'allow')).toThrow(/'allow', 'deny', 'throw'/);
    expect(() => validateRedisClient({})).toThrow(/ioredis Redis or Cluster/);
    expect(validateStoreTimeout(undefined)).toBe(1000);
    expect(validateStoreTimeout(250)).toBe(250);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      let caught: unknown;
      try {
        validateStoreTimeout(bad);
      } catch (error) {
        caught = error;
      }
      expect(isInvalidArgumentError(caught)).toBe(true);
    }
  });

  it('decides per policy; throw keeps the cause', async () => {
    const boom = new Error('connection reset');
    expect(await decideOnStoreError('allow', boom, 'k', 1, 5)).toMatchObject({ allowed: true, limit: 5 });
    expect(await decideOnStoreError('deny', boom, 'k', 1, 5)).toMatchObject({ allowed: false, retryAfterMs: STORE_DENY_RETRY_MS });
    const thrown = await decideOnStoreError('throw', boom, 'k', 1, 5).catch((error: unknown) => error);
    expect(isStoreUnavailableError(thrown)).toBe(true);
    expect((thrown as Error).cause).toBe(boom);
    expect(asStoreError(thrown)).toBe(thrown);
    const seen: string[] = [];
    const fallback = { tryTake: (key: string, n: number) => (seen.push(`${key}:${n}`), { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 0, limit: 1 }) };
    expect(await decideOnStoreError(fallback, boom, 'user', 3, 5)).toMatchObject({ allowed: true, limit: 1 });
    expect(seen).toEqual(['user:3']);
  });

  it('a throwing storeError listener does not stop the others', () => {
    const events: StoreErrorEvent[] = [];
    const listeners = [
      (): void => {
        throw new Error('listener bug');
      },
      (event: StoreErrorEvent): void => {
        events.push(event);
      },
    ];
    expect(() => emitStoreError(listeners, 'down', 'k')).not.toThrow();
    expect(events).toEqual([{ error: 'down', key: 'k' }]);
  });

  it('reads the (key?, n?, options?) overloads', () => {
    const signal = new AbortController().signal;
    expect(parseTakeArguments(undefined, undefined, undefined)).toEqual({ key: '', count: 1, options: {} });
    expect(parseTakeArguments(3, { signal }, undefined)).toEqual({ key: '', count: 3, options: { signal } });
    expect(parseTakeArguments('a', { signal }, undefined)).toEqual({ key: 'a', count: 1, options: { signal } });
    expect(parseTakeArguments('a', 2, { signal })).toEqual({ key: 'a', count: 2, options: { signal } });
  });
});
