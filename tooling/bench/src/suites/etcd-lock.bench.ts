// @bulwark/etcd-lock vs the etcd3 client's own lock(), against the same 3-member etcd
// cluster started by this suite (loopback, heartbeat 50 ms).
//
// - acquire+release: one caller, a free lock. Ours reuses one session (one lease kept
//   alive in the background, as etcd's Go concurrency package does); the etcd3 lock
//   grants and revokes a lease per acquisition. A second bulwark variant opens and
//   closes a session per lock, to show what the session saves.
// - handoff (report): two sessions take turns on one lock; latency from the holder
//   calling release() to the waiter's acquire() resolving, once with the waiter settled in its
//   watch and once with the release racing the waiter's watch creation. etcd3's lock() cannot
//   wait (it fails when the lock is held), so there is no peer case.
// - round trips: gRPC calls each library issues per operation, counted by a client
//   interceptor on separate clients (a waiter opens one Watch stream per wait, also counted
//   by the session's stats() as `watch`). The timed cases run on
//   plain clients: both libraries get `new Etcd3({ hosts: cluster.endpoints })` and nothing
//   else, so the interceptor (one call per RPC, and etcd3's lock makes more RPCs) cannot
//   slow the peer.
// - where the time goes: raft proposals committed per operation, read from the leader's
//   /metrics, and the median latency of etcd's primitives (a serializable Range, which
//   skips raft; a Put, one proposal; the exact Txn + DeleteRange our lock sends, issued
//   through client.kv with no lock code around it), interleaved so load hits all alike.
import { EtcdCluster } from '@bulwark/servers';
import { createSession, mutex, type Lease, type Mutex, type Session } from '@bulwark/etcd-lock';
import { Etcd3 } from 'etcd3';
import { defineSuite, quantile } from '../harness.js';

let cluster: EtcdCluster | undefined;
const counters = new Map<string, Map<string, number>>();
const clients: Etcd3[] = [];

/** A client exactly as a user would make one: the cluster's endpoints, default options. */
function plainClient(): Etcd3 {
  const client = new Etcd3({ hosts: cluster!.endpoints });
  clients.push(client);
  return client;
}

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

interface Ours {
  client: Etcd3;
  session: Session;
  lock: Mutex;
}
let ours: Ours | undefined;
let theirs: Etcd3 | undefined;
let perLock: Etcd3 | undefined;
/** The same three workloads on interceptor-counted clients, for the round-trip report only. */
let counted: { ours: Ours; theirs: Etcd3; perLock: Etcd3 } | undefined;
let handoff: { client: Etcd3; sessions: [Session, Session]; locks: [Mutex, Mutex] } | undefined;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function ourAcquireRelease(which: Ours = ours!): Promise<void> {
  const lease = await which.lock.acquire();
  await lease.release();
}

async function oursOn(client: Etcd3, prefix: string): Promise<Ours> {
  const session = await createSession({ client, ttlSeconds: 10 });
  return { client, session, lock: mutex(session, prefix) };
}

/** etcd_server_proposals_committed_total of the current leader (raft entries committed). */
async function proposalsCommitted(): Promise<number> {
  for (const url of cluster!.endpoints) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (!/^etcd_server_is_leader 1$/m.test(text)) continue;
    const match = /^etcd_server_proposals_committed_total (\S+)$/m.exec(text);
    if (match) return Number(match[1]);
  }
  throw new Error('no etcd member reports itself leader');
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

/**
 * Two sessions hand one lock back and forth; latency = holder's release() call → waiter's acquire() resolving.
 * `settled`: release only once the waiter has been watching for 2 ms (the handoff alone); otherwise release as
 * soon as the waiter has asked for its watch, so the deletion races the watch's creation (waiters that queue
 * just before a release, as in a busy queue).
 */
async function runHandoffs(durationMs: number, settled = true): Promise<{ ops: number; latenciesNs: number[] }> {
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
    for (let i = 0; i < 1000 && sessions[next]!.stats().rpcs.watch === watchesBefore; i++) {
      await (settled ? sleep(1) : new Promise((resolve) => setImmediate(resolve)));
    }
    if (settled) await sleep(2);
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
    ours = await oursOn(plainClient(), 'bench/bulwark');
    theirs = plainClient();
    perLock = plainClient();
    counted = {
      ours: await oursOn(countedClient('bulwark'), 'bench/bulwark-counted'),
      theirs: countedClient('etcd3'),
      perLock: countedClient('bulwark (session per lock)'),
    };
    const handoffClient = countedClient('bulwark handoff');
    const pair = await Promise.all([createSession({ client: handoffClient, ttlSeconds: 10 }), createSession({ client: handoffClient, ttlSeconds: 10 })]);
    handoff = {
      client: handoffClient,
      sessions: pair,
      locks: [mutex(pair[0], 'bench/handoff'), mutex(pair[1], 'bench/handoff')],
    };
  },
  async teardown() {
    await Promise.allSettled([ours?.session.close(), counted?.ours.session.close(), handoff?.sessions[0].close(), handoff?.sessions[1].close()]);
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
      name: 'handoff latency: holder calls release() → next waiter acquired (2 sessions on one client, 3 × 1.5 s each)',
      async collect() {
        const ms = (ns: number): string => `${(ns / 1e6).toFixed(2)} ms`;
        const figures: Record<string, Record<string, number | string>> = {};
        for (const [label, settled] of [
          ['bulwark', true],
          ['bulwark (waiter queued just before)', false],
        ] as const) {
          const latencies: number[] = [];
          for (let round = 0; round < 3; round++) latencies.push(...(await runHandoffs(1500, settled)).latenciesNs);
          latencies.sort((a, b) => a - b);
          figures[label] = {
            handoffs: latencies.length,
            p50: ms(quantile(latencies, 0.5)),
            p99: ms(quantile(latencies, 0.99)),
            '> 50 ms': latencies.filter((ns) => ns > 50e6).length,
          };
        }
        // etcd3's lock() fails at once when the lock is held, so it has no handoff to time.
        figures['etcd3'] = { handoffs: 0, p50: 'n/a', p99: 'n/a', '> 50 ms': 'n/a' };
        return figures;
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
        const { ours: countedOurs, theirs: countedTheirs, perLock: countedPerLock } = counted!;
        await measure('bulwark', 'bulwark acquire+release', () => ourAcquireRelease(countedOurs), () => countedOurs.session.stats().rpcs.watch);
        await measure('etcd3', 'etcd3 lock()+release()', () => theirAcquireRelease(countedTheirs));
        await measure('bulwark (session per lock)', 'bulwark session per lock', () => ourSessionPerLock(countedPerLock));
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
    {
      name: 'where the time goes: raft proposals per op (leader /metrics) and median latency of etcd primitives (interleaved)',
      async collect() {
        const samples = 200;
        const client = ours!.client;
        const { session } = ours!;
        // The exact requests our acquire + release send, with no lock code around them.
        const key = Buffer.from(`bench/floor/${session.leaseId}`);
        const range = { key: Buffer.from('bench/floor/'), range_end: Buffer.from('bench/floor0') };
        const floorTxn = {
          compare: [{ key, target: 'Create' as const, result: 'Equal' as const, create_revision: 0 }],
          success: [
            { request_put: { key, value: Buffer.from(session.holderId), lease: BigInt(`0x${session.leaseId}`).toString() } },
            { request_range: { ...range, sort_target: 'Create' as const, sort_order: 'Ascend' as const, limit: 1 } },
            { request_range: { ...range, sort_target: 'Create' as const, sort_order: 'Descend' as const, limit: 3 } },
          ],
          failure: [],
        };
        const probe = Buffer.from('bench/probe');
        const cases: [string, () => Promise<unknown>][] = [
          ['bulwark acquire+release', () => ourAcquireRelease()],
          ['etcd3 lock()+release()', () => theirAcquireRelease(theirs!)],
          ['floor: our Txn + DeleteRange, raw', async () => {
            await client.kv.txn(floorTxn);
            await client.kv.deleteRange({ key });
          }],
          ['Put (1 proposal)', () => client.kv.put({ key: probe, value: probe })],
          ['LeaseGrant + LeaseRevoke', async () => {
            const { ID } = await client.leaseClient.leaseGrant({ TTL: 10 });
            await client.leaseClient.leaseRevoke({ ID });
          }],
          ['serializable Range (no raft)', () => client.kv.range({ key: probe, serializable: true })],
        ];
        const latencies = cases.map((): number[] => []);
        for (let i = 0; i < samples; i++) {
          for (const [index, [, op]] of cases.entries()) {
            const t0 = process.hrtime.bigint();
            await op();
            latencies[index]!.push(Number(process.hrtime.bigint() - t0));
          }
        }
        const figures: Record<string, Record<string, number | string>> = {};
        for (const [index, [label, op]] of cases.entries()) {
          // Proposals: the case alone, so nothing else is counted (sessions' keep-alives are not proposals).
          const before = await proposalsCommitted();
          for (let i = 0; i < samples; i++) await op();
          const proposals = ((await proposalsCommitted()) - before) / samples;
          const sorted = latencies[index]!.sort((x, y) => x - y);
          figures[label] = { 'proposals/op': proposals, 'p50 ms': quantile(sorted, 0.5) / 1e6 };
        }
        return figures;
      },
    },
  ],
});
