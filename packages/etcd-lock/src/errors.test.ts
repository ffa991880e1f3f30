import { describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  InvalidOptionsError,
  LockHeldError,
  NotLeaderError,
  SessionExpiredError,
  StoreUnavailableError,
  isInvalidOptionsError,
  isLockHeldError,
  isNotLeaderError,
  isSessionExpiredError,
  isStoreUnavailableError,
} from './errors.js';

describe('errors', () => {
  const holder = { key: 'locks/a/1f', fencingToken: 42n, leaseId: '1f', holderId: 'host/7' };
  const cases = [
    [new LockHeldError('locks/a', holder), isLockHeldError, ERROR_CODES.lockHeld],
    [new SessionExpiredError('1f', 'expired'), isSessionExpiredError, ERROR_CODES.sessionExpired],
    [new StoreUnavailableError('txn', { cause: new Error('14 UNAVAILABLE') }), isStoreUnavailableError, ERROR_CODES.storeUnavailable],
    [new InvalidOptionsError('ttlSeconds', 'bad'), isInvalidOptionsError, ERROR_CODES.invalidOptions],
    [new NotLeaderError('election/a', 'election/a/1f'), isNotLeaderError, ERROR_CODES.notLeader],
  ] as const;

  it.each(cases)('%s has a stable code and exactly one matching guard', (error, guard, code) => {
    expect(error.code).toBe(code);
    expect(error).toBeInstanceOf(Error);
    expect(guard(error)).toBe(true);
    const others = cases.filter(([, g]) => g !== guard).map(([, g]) => g);
    expect(others.map((g) => g(error))).toEqual(others.map(() => false));
  });

  it('guards reject plain objects and errors without the code', () => {
    expect(isLockHeldError({ code: ERROR_CODES.lockHeld })).toBe(false);
    expect(isStoreUnavailableError(new Error('x'))).toBe(false);
    expect(isSessionExpiredError(undefined)).toBe(false);
  });

  it('messages carry what a caller needs to act on', () => {
    expect(new LockHeldError('locks/a', holder).message).toContain('host/7');
    expect(new LockHeldError('locks/a', holder).message).toContain('42');
    expect(new StoreUnavailableError('txn', { cause: new Error('no leader') }).message).toBe('etcd txn failed: no leader');
    expect(new SessionExpiredError('1f', 'closed').message).toContain('closed');
  });
});
