import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sharedServers } from '@bulwark/servers/testing';
import type { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSession, mutex, type Session } from '../src/index.js';
import { etcdClient, FencedRegister, uniquePrefix } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/contender.ts', import.meta.url));
let endpoints: string[];
let client: Etcd3;
const children: ChildProcess[] = [];
const sessions: Session[] = [];

interface Message {
  event: string;
  token?: string;
  ok?: boolean;
  accepted?: boolean;
  sessionLost?: boolean;
}

/** A contender process and the JSON lines it printed so far. */
function contender(mode: 'contend' | 'hold', prefix: string, register: string, ttlSeconds: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode, endpoints.join(','), prefix, register, String(ttlSeconds)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const messages: Message[] = [];
  const waiters: { event: string; resolve: (m: Message) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line) as Message;
    messages.push(message);
    for (const w of waiters.filter((w) => w.event === message.event)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(message);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    messages,
    exited,
    next(event: string): Promise<Message> {
      const seen = messages.find((m) => m.event === event);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ event, resolve }));
    },
    send(line: string): void {
      child.stdin.write(`${line}\n`);
    },
  };
}

async function untilKeys(prefix: string, count: number): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    if ((await client.getAll().prefix(`${prefix}/`).count()) >= count) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never saw ${count} waiters under ${prefix}`);
}

beforeAll(() => {
  endpoints = [...sharedServers().etcdEndpoints];
  client = etcdClient(endpoints);
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  await Promise.allSettled(sessions.map((s) => s.close()));
  client.close();
});

describe('processes contending for one lock', () => {
  it('10 processes acquire one at a time, in arrival (create revision) order, checked by fencing', async () => {
    const prefix = uniquePrefix('procs');
    const register = new FencedRegister(client, uniquePrefix('register'));
    await register.init();
    // Hold the lock while the 10 processes start, so all of them queue.
    const gate = await createSession({ client, ttlSeconds: 10 });
    sessions.push(gate);
    const gateLease = await mutex(gate, prefix).acquire();
    const procs = Array.from({ length: 10 }, () => contender('contend', prefix, register.key, 10));
    await untilKeys(prefix, 11);
    // Arrival order, read from etcd: the waiters' keys by create revision.
    const queued = await client.getAll().prefix(`${prefix}/`).sort('Create', 'Ascend').exec();
    const arrival = queued.kvs.slice(1).map((kv) => BigInt(kv.create_revision));
    await gateLease.release();

    const codes = await Promise.all(procs.map((p) => p.exited));
    expect(codes).toEqual(Array(10).fill(0));
    const done = procs.map((p) => p.messages.find((m) => m.event === 'done'));
    expect(done.every((m) => m?.ok === true)).toBe(true);

    // The register's accepted writes, in the order etcd applied them: enter/exit pairs that
    // never interleave (mutual exclusion) with tokens in arrival order (FIFO).
    const log = await register.log();
    expect(log.map((e) => e.note)).toEqual(arrival.flatMap(() => ['enter', 'exit']));
    expect(log.filter((e) => e.note === 'enter').map((e) => e.token)).toEqual(arrival);
    expect(await register.read()).toBe(arrival.at(-1));
  });

  it('a holder paused past its TTL loses the lock to the next waiter, and its late write is fenced off', async () => {
    const prefix = uniquePrefix('paused');
    const register = new FencedRegister(client, uniquePrefix('register'));
    await register.init();
    const holder = contender('hold', prefix, register.key, 1);
    const acquired = await holder.next('acquired');
    const holderToken = BigInt(acquired.token!);

    const next = await createSession({ client, ttlSeconds: 5 });
    sessions.push(next);
    const waiting = mutex(next, prefix).acquire();
    await untilKeys(prefix, 2);

    holder.child.kill('SIGSTOP');
    try {
      // The holder cannot renew; etcd expires its lease and deletes its key after ~1 s.
      const lease = await waiting;
      expect(lease.fencingToken > holderToken).toBe(true);
      expect(await register.write(lease.fencingToken, 'next')).toBe(true);
    } finally {
      holder.child.kill('SIGCONT');
    }
    holder.send('write');
    const late = await holder.next('write');
    expect(late.accepted).toBe(false);
    expect(late.sessionLost).toBe(true);
    holder.send('exit');
    expect(await holder.exited).toBe(0);
    expect((await register.log()).map((e) => e.note)).toEqual(['next']);
  });
});
