import { expect } from 'vitest';
import { describeStoreDown } from '../../token-bucket/test/store-down-suite.js';
import { RedisSlidingWindow, SlidingLog } from '../src/index.js';

describeStoreDown({
  name: 'RedisSlidingWindow',
  // The deny and frozen scenarios run the counter script, the others the log script.
  createLimiter: ({ client, prefix, role, limit, onStoreError, timeoutMs }) =>
    new RedisSlidingWindow({
      client,
      algorithm: role === 'deny' || role === 'frozen' ? 'counter' : 'log',
      prefix,
      limit,
      windowMs: role === 'frozen' ? 1000 : 60_000,
      onStoreError,
      timeoutMs,
    }),
  createFallback: () => new SlidingLog({ limit: 1, windowMs: 60_000 }),
  afterRecovery: async (limiters) => {
    expect((await limiters.deny.tryTake('k')).allowed).toBe(true); // the counter script loads again too
  },
});
