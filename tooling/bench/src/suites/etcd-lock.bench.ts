// @bulwark/etcd-lock vs the etcd3 client's own lock(), against the same 3-member etcd
// cluster started by this suite (loopback, heartbeat 50 ms).
//
// - acquire+release: one caller, a free lock. Ours reuses one session (one lease kept
//   alive in the background, as etcd's Go concurrency package does); the etcd3 lock
//   grants and revokes a lease per acquisition. A second bulwark variant opens and
//   closes a session per lock, to show what the session saves.
// - handoff (report): two sessions take turns on one lock; latency from the holder
//   calling release() to the waiter's acquire() resolving. etcd3's lock() cannot wait (it fails
//   when the lock is held), so there is no peer case.
// - round trips: gRPC calls each library issues per operation, counted by a client
//   interceptor on separate clients (plus watch creations, which travel on the client's
//   shared watch stream and are counted by the session's stats()).
import { EtcdCluster } from '@bulwark/servers';
import { createSession, mutex, type Lease, type Mutex, type Session } from '@bulwark/etcd-lock';
import { Etcd3 } from 'etcd3';
import { defineSuite, quantile } from '../harness.js';

let cluster: EtcdCluster | undefined;
const counters = new Map<string, Map<string, number>>();
const clients: Etcd3[] = [];

/** A client whose gRPC calls are counted under `name`, by method. */
function countedClient(name: string): Etcd3 {
  const counts = new Map<string, number>();
  counters.set(name, counts);
  const interceptor = (options: { method_definition: { path: string } }, nextCall: (options: unknown) => unknown): unknown => {
    const method = options.method_definition.path.split('/').pop() ?? '?';
    counts.set(method, (counts.get(method) ?? 0) + 1);
    return nextCall(options);
  };
  // grpc-js takes `interceptors` among the client options etcd3 passes through.
  const client = new Etcd3({ hosts: cluster!.endpoints, grpcOptions: { interceptors: [interceptor] } });
  clients.push(client);
  return client;
}

function total(name: string): number {
  let sum = 0;
  for (const n of counters.get(name)?.values() ?? []) sum += n;
  return sum;
}

function reset(name: string): void {
  counters.get(name)?.clear();
}

let ours: { client: Etcd3; session: Session; lock: Mutex } | undefined;
let theirs: Etcd3 | undefined;
let perLock: Etcd3 | undefined;
let handoff: { client: Etcd3; sessions: [Session, Session]; locks: [Mutex, Mutex] } | undefined;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function ourAcquireRelease(): Promise<void> {
  const lease = await ours!.lock.acquire();
  await lease.release();
}

async function theirAcquireRelease(client: Etcd3): Promise<void> {
  const lock = client.lock('bench/etcd3-lock');
  await lock.acquire();
  await lock.release();
}

async function ourSessionPerLock(client: Etcd3): Promise<void> {
  const session = await createSession({ client, ttlSeconds: 10 });
  const lease = await mutex(session, 'bench/per-lock').acquire();
  await lease.release();
  await session.close();
}

/** Two sessions hand one lock back and forth; latency = holder's release() call → waiter's acquire() resolving. */
async function runHandoffs(durationMs: number): Promise<{ ops: number; latenciesNs: number[] }> {
  const { sessions, locks } = handoff!;
  const latenciesNs: number[] = [];
  const end = Date.now() + durationMs;
  let turn = 0;
  let holder: Lease = await locks[0].acquire();
  while (Date.now() < end) {
    const next = 1 - turn;
    const watchesBefore = sessions[next]!.stats().rpcs.watch;
    const waiting = locks[next]!.acquire();
    // Release only once the waiter is queued and watching: we measure the handoff, not the queueing.
    for (let i = 0; i < 1000 && sessions[next]!.stats().rpcs.watch === watchesBefore; i++) await sleep(1);
    await sleep(2);
    const t0 = process.hrtime.bigint();
    await holder.release();
    holder = await waiting;
    latenciesNs.push(Number(process.hrtime.bigint() - t0));
    turn = next;
  }
  await holder.release();
  return { ops: latenciesNs.length, latenciesNs };
}

export const suite = defineSuite({
  name: 'etcd-lock',
  async setup() {
    cluster = await EtcdCluster.start();
    const client = countedClient('bulwark');
    const session = await createSession({ client, ttlSeconds: 10 });
    ours = { client, session, lock: mutex(session, 'bench/bulwark') };
    theirs = countedClient('etcd3');
    perLock = countedClient('bulwark (session per lock)');
    const handoffClient = countedClient('bulwark handoff');
    const pair = await Promise.all([createSession({ client: handoffClient, ttlSeconds: 10 }), createSession({ client: handoffClient, ttlSeconds: 10 })]);
    handoff = {
      client: handoffClient,
      sessions: pair,
      locks: [mutex(pair[0], 'bench/handoff'), mutex(pair[1], 'bench/handoff')],
    };
  },
  async teardown() {
    await Promise.allSettled([ours?.session.close(), handoff?.sessions[0].close(), handoff?.sessions[1].close()]);
    for (const client of clients) client.close();
    await cluster?.destroy();
  },
  tasks: [
    {
      name: 'acquire + release, free lock, one caller',
      rounds: 5,
      durationMs: 600,
      cases: [
        { library: 'bulwark', variant: 'one session', fn: ourAcquireRelease },
        { library: 'etcd3', variant: 'client.lock()', fn: () => theirAcquireRelease(theirs!) },
        { library: 'bulwark', variant: 'session per lock', fn: () => ourSessionPerLock(perLock!) },
      ],
    },
  ],
  reports: [
    {
      name: 'handoff latency: holder calls release() → next waiter acquired (2 sessions, 3 × 1.5 s)',
      async collect() {
        const latencies: number[] = [];
        for (let round = 0; round < 3; round++) latencies.push(...(await runHandoffs(1500)).latenciesNs);
        latencies.sort((a, b) => a - b);
        const ms = (ns: number): string => `${(ns / 1e6).toFixed(2)} ms`;
        return {
          bulwark: { handoffs: latencies.length, p50: ms(quantile(latencies, 0.5)), p99: ms(quantile(latencies, 0.99)) },
          // etcd3's lock() fails at once when the lock is held, so it has no handoff to time.
          etcd3: { handoffs: 0, p50: 'n/a', p99: 'n/a' },
        };
      },
    },
    {
      name: 'round trips per operation (gRPC calls counted by an interceptor)',
      async collect() {
        const samples = 200;
        const figures: Record<string, Record<string, number | string>> = {};
        const measure = async (name: string, label: string, op: () => Promise<void>, watches?: () => number): Promise<void> => {
          reset(name);
          const watchesBefore = watches?.() ?? 0;
          for (let i = 0; i < samples; i++) await op();
          const methods = [...(counters.get(name) ?? new Map<string, number>()).entries()]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([method, n]) => `${method}×${(n / samples).toFixed(2)}`)
            .join(' ');
          figures[label] = {
            'calls/op': total(name) / samples,
            'watches/op': watches ? (watches() - watchesBefore) / samples : 0,
            // Leading space: the report right-aligns columns to 16 characters, so long text would touch.
            methods: ` ${methods}`,
          };
        };
        await measure('bulwark', 'bulwark acquire+release', ourAcquireRelease, () => ours!.session.stats().rpcs.watch);
        await measure('etcd3', 'etcd3 lock()+release()', () => theirAcquireRelease(theirs!));
        await measure('bulwark (session per lock)', 'bulwark session per lock', () => ourSessionPerLock(perLock!));
        // Handoffs: count both sessions' calls per completed handoff.
        reset('bulwark handoff');
        const [a, b] = handoff!.sessions;
        const watchesBefore = a.stats().rpcs.watch + b.stats().rpcs.watch;
        const { ops } = await runHandoffs(1500);
        const methods = [...(counters.get('bulwark handoff') ?? new Map<string, number>()).entries()]
          .sort(([x], [y]) => x.localeCompare(y))
          .map(([method, n]) => `${method}×${(n / ops).toFixed(2)}`)
          .join(' ');
        figures['bulwark handoff (per handoff)'] = {
          'calls/op': total('bulwark handoff') / ops,
          'watches/op': (a.stats().rpcs.watch + b.stats().rpcs.watch - watchesBefore) / ops,
          methods: ` ${methods}`,
        };
        return figures;
      },
    },
  ],
});
