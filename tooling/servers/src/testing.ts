// Test-side API: the servers started by the global setup, and private groups
// for fault-injection tests (so killing a server never disturbs another file).
import { inject } from 'vitest';
import type { ServerAction, ServerNeeds } from './group.js';

export interface ProvidedServers {
  redisUrls: string[];
  etcdEndpoints: string[];
  /** False when the URLs came from BULWARK_REDIS_URLS: those servers cannot be controlled. */
  redisManaged: boolean;
  etcdManaged: boolean;
  controlUrl: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    bulwarkServers: ProvidedServers;
  }
}

/** Stop, crash, freeze or restart one server. */
export interface ServerControls {
  /** Graceful shutdown (SIGTERM). */
  stop(): Promise<void>;
  /** Crash (SIGKILL). */
  kill(): Promise<void>;
  /** Freeze (SIGSTOP): connections stay open but nothing answers. */
  pause(): Promise<void>;
  /** Unfreeze (SIGCONT). */
  resume(): Promise<void>;
  /** Start again on the same port with the same data dir. */
  restart(): Promise<void>;
}

export interface ServerGroupHandle {
  readonly id: string;
  readonly redisUrls: readonly string[];
  readonly etcdEndpoints: readonly string[];
  redis(index: number): ServerControls;
  etcd(index: number): ServerControls;
  /** Waits until every running etcd member reports a healthy cluster. */
  etcdHealthy(): Promise<void>;
}

export interface PrivateServerGroup extends ServerGroupHandle, AsyncDisposable {
  close(): Promise<void>;
}

function provided(): ProvidedServers {
  const servers = inject('bulwarkServers') as ProvidedServers | undefined;
  if (!servers) {
    throw new Error(
      'No test servers were provided. Declare them in vitest.config.ts: ' +
        "bulwarkVitestConfig({ servers: { redis: 5, etcd: true } }).",
    );
  }
  return servers;
}

/** The servers the package declared, shared by all its test files. Do not kill these; use `startServerGroup`. */
export function sharedServers(): ServerGroupHandle {
  const servers = provided();
  return handle(servers.controlUrl, 'shared', servers.redisUrls, servers.etcdEndpoints, {
    redis: servers.redisManaged,
    etcd: servers.etcdManaged,
  });
}

/** Starts servers owned by one test file, for fault injection. Close it in `afterAll` (or `await using`). */
export async function startServerGroup(needs: ServerNeeds): Promise<PrivateServerGroup> {
  const { controlUrl } = provided();
  const info = (await call(controlUrl, 'POST', '/groups', needs)) as {
    id: string;
    redisUrls: string[];
    etcdEndpoints: string[];
  };
  const base = handle(controlUrl, info.id, info.redisUrls, info.etcdEndpoints, { redis: true, etcd: true });
  const close = async (): Promise<void> => {
    await call(controlUrl, 'DELETE', `/groups/${info.id}`);
  };
  return { ...base, close, [Symbol.asyncDispose]: close };
}

function handle(
  controlUrl: string,
  id: string,
  redisUrls: string[],
  etcdEndpoints: string[],
  managed: { redis: boolean; etcd: boolean },
): ServerGroupHandle {
  const controls = (kind: 'redis' | 'etcd', index: number): ServerControls => {
    const list = kind === 'redis' ? redisUrls : etcdEndpoints;
    if (!Number.isInteger(index) || index < 0 || index >= list.length) {
      throw new RangeError(`${kind} index must be 0..${list.length - 1}, got ${index}`);
    }
    const act = async (action: ServerAction): Promise<void> => {
      if (!managed[kind]) {
        throw new Error(`${kind} servers came from the environment and cannot be controlled (${action})`);
      }
      await call(controlUrl, 'POST', `/groups/${id}/${kind}/${index}/${action}`);
    };
    return {
      stop: () => act('stop'),
      kill: () => act('kill'),
      pause: () => act('pause'),
      resume: () => act('resume'),
      restart: () => act('restart'),
    };
  };
  return {
    id,
    redisUrls,
    etcdEndpoints,
    redis: (index) => controls('redis', index),
    etcd: (index) => controls('etcd', index),
    etcdHealthy: async () => {
      await call(controlUrl, 'POST', `/groups/${id}/etcd/wait-healthy`);
    },
  };
}

async function call(controlUrl: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${controlUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as { error?: string };
  if (!response.ok) throw new Error(`server control ${method} ${path} failed: ${json.error ?? response.status}`);
  return json;
}
