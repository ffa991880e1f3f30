import type { Etcd3 } from 'etcd3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isInvalidOptionsError, isSessionExpiredError, isStoreUnavailableError } from './errors.js';
import type { LeaseBackend } from './lease-backend.js';
import { createSession, openSessionWithBackend } from './session.js';

/** Only the shape validation looks at; the fake backend does the lease work. */
const fakeClient = { leaseClient: {} } as unknown as Etcd3;

class FakeClock {
  t = 0;
  now = (): number => this.t;
}

type KeepAliveReply = { ttl: number } | { fail: Error } | 'hang';

/** A lease backend whose keep-alive replies the test scripts, answering after `latencyMs` of fake time. */
function fakeBackend(replies: KeepAliveReply[], latencyMs = 10) {
  const calls = { grant: 0, keepAlive: 0, revoke: 0 };
  const backend: LeaseBackend = {
    grant: (ttlSeconds) => {
      calls.grant++;
      return Promise.resolve({ id: '4096', ttlSeconds });
    },
    keepAlive: () => {
      calls.keepAlive++;
      const reply = replies.shift() ?? { ttl: 3 };
      if (reply === 'hang') return new Promise<number>(() => undefined);
      return new Promise<number>((resolve, reject) => {
        setTimeout(() => ('fail' in reply ? reject(reply.fail) : resolve(reply.ttl)), latencyMs);
      });
    },
    revoke: () => {
      calls.revoke++;
      return Promise.resolve();
    },
  };
  return { backend, calls };
}

describe('session options', () => {
  it.each([
    [{ ttlSeconds: 0 }, 'ttlSeconds'],
    [{ ttlSeconds: 1.5 }, 'ttlSeconds'],
    [{ ttlSeconds: 3, keepAliveIntervalMs: 3000 }, 'keepAliveIntervalMs'],
    [{ keepAliveIntervalMs: 0 }, 'keepAliveIntervalMs'],
    [{ requestTimeoutMs: 0 }, 'requestTimeoutMs'],
    [{ holderId: '' }, 'holderId'],
  ])('rejects %j naming %s, synchronously', (bad, option) => {
    let thrown: unknown;
    try {
      void createSession({ client: fakeClient, ...bad });
    } catch (error) {
      thrown = error;
    }
    expect(isInvalidOptionsError(thrown)).toBe(true);
    expect((thrown as { option: string }).option).toBe(option);
    expect(thrown).toBeInstanceOf(RangeError);
  });

  it('rejects a missing client', () => {
    expect(() => createSession({} as never)).toThrow(/client/);
  });
});

describe('session keep-alive and loss', () => {
  let clock: FakeClock;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = new FakeClock();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Advances fake timers and the fake clock together. */
  async function advance(ms: number): Promise<void> {
    for (let i = 0; i < ms; i += 10) {
      clock.t += 10;
      await vi.advanceTimersByTimeAsync(10);
    }
  }

  it('renews every ttl/3 and stays alive while renewals succeed', async () => {
    const { backend, calls } = fakeBackend([]);
    const session = await openSessionWithBackend({ client: fakeClient, ttlSeconds: 3, clock }, backend);
    await advance(10_000);
    expect(session.state).toBe('alive');
    expect(calls.keepAlive).toBeGreaterThanOrEqual(9);
    expect(session.stats().keepAlivesSucceeded).toBe(calls.keepAlive);
    expect(session.leaseId).toBe('1000');
    await session.close();
    expect(calls.revoke).toBe(1);
    expect(session.state).toBe('closed');
    expect(isSessionExpiredError(session.signal.reason)).toBe(true);
  });

  it('aborts when the TTL since the last good renewal runs out, not at 2×TTL', async () => {
    const unavailable = new Error('14 UNAVAILABLE: no leader');
    // The first renewal succeeds (sent at t=1000, lease good until 4000); then etcd is unreachable.
    const { backend } = fakeBackend([{ ttl: 3 }, ...Array.from({ length: 100 }, () => ({ fail: unavailable }))]);
    const session = await openSessionWithBackend({ client: fakeClient, ttlSeconds: 3, clock }, backend);
    const lost = vi.fn();
    session.on('lost', lost);
    await advance(3_950);
    expect(session.signal.aborted).toBe(false);
    await advance(100);
    expect(session.signal.aborted).toBe(true);
    expect(lost).toHaveBeenCalledTimes(1);
    const reason: unknown = session.signal.reason;
    expect(isSessionExpiredError(reason)).toBe(true);
    expect((reason as Error).cause).toBe(unavailable);
    expect(session.stats().keepAlivesFailed).toBeGreaterThan(0);
  });

  it('treats a hanging renewal like a failed one', async () => {
    const { backend } = fakeBackend(['hang', 'hang', 'hang', 'hang', 'hang', 'hang']);
    const session = await openSessionWithBackend({ client: fakeClient, ttlSeconds: 2, requestTimeoutMs: 5_000, clock }, backend);
    await advance(1_990);
    expect(session.state).toBe('alive');
    await advance(20);
    expect(session.state).toBe('expired');
  });

  it('aborts at once when etcd says the lease is gone (TTL 0)', async () => {
    const { backend } = fakeBackend([{ ttl: 0 }]);
    const session = await openSessionWithBackend({ client: fakeClient, ttlSeconds: 30, clock }, backend);
    await advance(10_000 + 20);
    expect(session.state).toBe('expired');
    expect(clock.t).toBeLessThan(30_000);
  });

  it('a process frozen past its TTL notices the loss as soon as it runs again', async () => {
    const { backend } = fakeBackend([]);
    const session = await openSessionWithBackend({ client: fakeClient, ttlSeconds: 3, clock }, backend);
    clock.t += 60_000; // frozen: no timer ran
    await vi.advanceTimersByTimeAsync(3_000);
    expect(session.state).toBe('expired');
  });

  it('close() after loss does not revoke, and the grant failure is typed', async () => {
    const { backend, calls } = fakeBackend([{ ttl: 0 }]);
    const session = await openSessionWithBackend({ client: fakeClient, ttlSeconds: 3, clock }, backend);
    await advance(1_100);
    await session.close();
    expect(calls.revoke).toBe(0);

    const failing: LeaseBackend = { ...backend, grant: () => Promise.reject(new Error('14 UNAVAILABLE')) };
    await expect(openSessionWithBackend({ client: fakeClient, clock }, failing)).rejects.toSatisfy(isStoreUnavailableError);
  });
});
