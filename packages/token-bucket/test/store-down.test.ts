import { RedisTokenBucket, TokenBucket } from '../src/index.js';
import { describeStoreDown } from './store-down-suite.js';

describeStoreDown({
  name: 'RedisTokenBucket',
  createLimiter: ({ client, prefix, limit, onStoreError, timeoutMs }) =>
    new RedisTokenBucket({ client, prefix, capacity: limit, refillRate: 1, onStoreError, timeoutMs }),
  createFallback: () => new TokenBucket({ capacity: 1, refillRate: 1, intervalMs: 60_000 }),
});
