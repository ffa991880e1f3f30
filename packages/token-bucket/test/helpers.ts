// Shared by the token-bucket and sliding-window integration tests (sliding-window
// imports this file by relative path): multi-process load children, Redis time,
// and the hooks of the suites that kill or freeze a private Redis.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServerGroup, type PrivateServerGroup } from '@bulwark/servers/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

const childPath = fileURLToPath(new URL('./fixtures/child.ts', import.meta.url));
const tokenBucketLimiterPath = fileURLToPath(new URL('./fixtures/token-bucket-limiter.ts', import.meta.url));

export interface ChildResult {
  admitted: number;
  calls: number;
  errors: number;
  /** Redis TIME (ms) of each admission, for limiters whose results report it (`serverTimeMs`). */
  times: number[];
}

/**
 * Starts `count` load processes connected to `redisUrl` and resolves when all are ready.
 * `limiterModule` is the path of a module exporting `createLimiter` (see fixtures/child.ts);
 * the default builds a RedisTokenBucket.
 */
export async function startChildren(count: number, redisUrl: string, limiterModule = tokenBucketLimiterPath): Promise<ChildProcess[]> {
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['--import', 'tsx', childPath, redisUrl, limiterModule], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          child.once('error', reject);
          child.once('exit', (code) => reject(new Error(`child exited early with ${String(code)}`)));
          child.on('message', (m: { type: string }) => {
            if (m.type === 'ready') resolve();
          });
        }),
    ),
  );
  for (const child of children) child.removeAllListeners('exit');
  return children;
}

/** Sends one run to every child (with its own extra fields) and collects the results. */
export async function runAll(children: ChildProcess[], message: (index: number) => Record<string, unknown>): Promise<ChildResult[]> {
  return Promise.all(
    children.map(
      (child, i) =>
        new Promise<ChildResult>((resolve, reject) => {
          const onMessage = (m: { type: string; message?: string } & ChildResult): void => {
            if (m.type === 'result') {
              child.off('message', onMessage);
              resolve(m);
            } else if (m.type === 'error') {
              child.off('message', onMessage);
              reject(new Error(m.message));
            }
          };
          child.on('message', onMessage);
          child.send({ type: 'run', ...message(i) });
        }),
    ),
  );
}

export function stopChildren(children: readonly ChildProcess[]): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Redis's own clock in ms. */
export async function redisTimeMs(client: { time(): Promise<unknown> }): Promise<number> {
  const [seconds, micros] = (await client.time()) as [string | number, string | number];
  return Number(seconds) * 1000 + Number(micros) / 1000;
}

/** Collects the unhandled rejections seen while the enclosing describe runs; a test asserts the list is empty. */
export function collectUnhandledRejections(): unknown[] {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });
  return unhandled;
}

export interface PrivateRedis {
  /** The group's one Redis, for kill/pause/restart/resume. */
  readonly group: PrivateServerGroup;
  readonly client: Redis;
  /** Resolves once the client is connected (again, after a restart or resume). */
  ready(): Promise<void>;
}

/**
 * A Redis of the enclosing describe's own, started before its tests and closed
 * after them, and a client with what users should set: fail fast while
 * disconnected instead of queueing, reconnect every 50 ms.
 */
export function usePrivateRedis(): PrivateRedis {
  let group: PrivateServerGroup | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    group = await startServerGroup({ redis: 1 });
    client = new Redis(group.redisUrls[0]!, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => 50,
    });
    client.on('error', () => undefined);
    await client.connect();
  });
  afterAll(async () => {
    client?.disconnect();
    await group?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('usePrivateRedis: used before its beforeAll ran');
    return value;
  };
  return {
    get group() {
      return started(group);
    },
    get client() {
      return started(client);
    },
    async ready() {
      const c = started(client);
      if (c.status === 'ready') return;
      await new Promise<void>((resolve) => c.once('ready', () => resolve()));
    },
  };
}
