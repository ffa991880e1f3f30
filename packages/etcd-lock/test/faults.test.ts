import { startServerGroup, type PrivateServerGroup } from '@bulwark/servers/testing';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSession,
  isSessionExpiredError,
  isStoreUnavailableError,
  mutex,
  type Session,
} from '../src/index.js';
import { etcdClient, FencedRegister, uniquePrefix } from './helpers.js';

let group: PrivateServerGroup;
const clients: Etcd3[] = [];
const sessions: Session[] = [];

function client(): Etcd3 {
  const c = etcdClient(group.etcdEndpoints);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  group = await startServerGroup({ etcd: true });
});

afterAll(async () => {
  await Promise.allSettled(sessions.map((s) => s.close()));
  for (const c of clients) c.close();
  await group?.close();
});

describe('etcd member failures', () => {
  it('locks keep working, exclusively, while one member is killed mid-contention', async () => {
    const prefix = uniquePrefix('kill-one');
    const register = new FencedRegister(client(), uniquePrefix('register'));
    await register.init();
    const perContender = 12;
    let done = 0;
    const violations: string[] = [];
    const contend = async (index: number): Promise<void> => {
      const session = await createSession({ client: client(), ttlSeconds: 5, requestTimeoutMs: 3_000, holderId: `c${index}` });
      sessions.push(session);
      const lock = mutex(session, prefix);
      let completed = 0;
      // Bounded: a few failed attempts are expected while etcd elects a new leader.
      for (let attempt = 0; attempt < perContender + 10 && completed < perContender; attempt++) {
        try {
          await lock.using(async (lease) => {
            const entered = await register.write(lease.fencingToken, `enter-${index}-${attempt}`);
            const seen = await register.read();
            const exited = await register.write(lease.fencingToken, `exit-${index}-${attempt}`);
            if (!entered || !exited || seen !== lease.fencingToken) violations.push(`${index}-${attempt}`);
          });
          completed++;
          done++;
        } catch (error) {
          // Typed lock errors, or the register's own etcd call failing mid-election: try again.
          if (!isStoreUnavailableError(error) && !(error instanceof Error && /etcd|GRPC|UNAVAILABLE|deadline/i.test(`${error.name} ${error.message}`))) throw error;
        }
      }
    };
    const running = [0, 1, 2].map(contend);
    for (let i = 0; i < 500 && done < 6; i++) await new Promise((r) => setTimeout(r, 10));
    await group.etcd(0).kill();
    await Promise.all(running);
    expect(violations).toEqual([]);
    expect(done).toBe(3 * perContender);
    // In etcd's order of accepted writes, each holder's entries are contiguous: nobody wrote
    // between another holder's enter and exit.
    const log = await register.log();
    const runs = log.map((e) => e.token).filter((t, i, all) => i === 0 || all[i - 1] !== t);
    expect(new Set(runs).size).toBe(runs.length);
    expect(runs.length).toBeGreaterThanOrEqual(3 * perContender);
    await group.etcd(0).restart();
    await group.etcdHealthy();
  });

  it('with the majority lost, calls fail with typed errors instead of hanging, and locks work again after restart', async () => {
    const prefix = uniquePrefix('majority');
    const c = client();
    const holderSession = await createSession({ client: c, ttlSeconds: 2, requestTimeoutMs: 1_000 });
    const waiterSession = await createSession({ client: c, ttlSeconds: 2, requestTimeoutMs: 1_000 });
    sessions.push(holderSession, waiterSession);
    const held = await mutex(holderSession, prefix).acquire();
    const waiting = mutex(waiterSession, prefix).acquire();
    waiting.catch(() => undefined);
    for (let i = 0; i < 200 && waiterSession.stats().rpcs.watch === 0; i++) await new Promise((r) => setTimeout(r, 10));

    await Promise.all([group.etcd(1).kill(), group.etcd(2).kill()]);

    // New work fails within the request timeout with StoreUnavailableError.
    await expect(createSession({ client: c, ttlSeconds: 2, requestTimeoutMs: 1_000 })).rejects.toSatisfy(isStoreUnavailableError);
    await expect(mutex(holderSession, uniquePrefix('other')).tryAcquire()).rejects.toSatisfy(
      (e: unknown) => isStoreUnavailableError(e) || isSessionExpiredError(e),
    );
    // The holder cannot renew: its lease signal aborts once the TTL has run out.
    const lost = await new Promise<unknown>((resolve) => {
      if (held.signal.aborted) resolve(held.signal.reason);
      held.signal.addEventListener('abort', () => resolve(held.signal.reason), { once: true });
    });
    expect(isSessionExpiredError(lost)).toBe(true);
    // The waiter's session is lost too: its acquire rejects rather than waiting forever.
    await expect(waiting).rejects.toSatisfy(isSessionExpiredError);
    // Releasing a lock whose session is gone is a no-op, not a hang.
    await held.release();

    await Promise.all([group.etcd(1).restart(), group.etcd(2).restart()]);
    await group.etcdHealthy();

    // Recovery with the same client: the first calls may still hit a host marked failed.
    let recoveredToken: bigint | undefined;
    for (let attempt = 0; attempt < 40 && recoveredToken === undefined; attempt++) {
      try {
        const s = await createSession({ client: c, ttlSeconds: 5, requestTimeoutMs: 2_000 });
        sessions.push(s);
        recoveredToken = await mutex(s, prefix).using((lease) => lease.fencingToken);
      } catch (error) {
        if (!isStoreUnavailableError(error)) throw error;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    expect(recoveredToken! > held.fencingToken).toBe(true);
  });
});
