// vitest globalSetup: starts the servers a package declared through
// @bulwark/vitest-config (or takes their addresses from the environment) and
// provides them to tests. See ./testing.ts for the test-side API.
import type { TestProject } from 'vitest/node';
import { ServerManager } from './control.js';
import type { ProvidedServers } from './testing.js';
import { cleanupSync } from './cleanup.js';

let manager: ServerManager | undefined;

export async function setup(project: TestProject): Promise<void> {
  const needs = JSON.parse(process.env['BULWARK_SERVERS_NEEDED'] ?? '{}') as { redis?: number; etcd?: boolean };
  const externalRedis = splitList(process.env['BULWARK_REDIS_URLS']);
  const externalEtcd = splitList(process.env['BULWARK_ETCD_ENDPOINTS']);
  const redisCount = externalRedis.length > 0 ? 0 : (needs.redis ?? 0);
  const etcd = externalEtcd.length > 0 ? false : (needs.etcd ?? false);

  manager = new ServerManager();
  const controlUrl = await manager.listen();
  try {
    const shared = await manager.createGroup({ redis: redisCount, etcd }, 'shared');
    const info = shared.info();
    const provided: ProvidedServers = {
      redisUrls: externalRedis.length > 0 ? externalRedis : info.redisUrls,
      etcdEndpoints: externalEtcd.length > 0 ? externalEtcd : info.etcdEndpoints,
      redisManaged: externalRedis.length === 0,
      etcdManaged: externalEtcd.length === 0,
      controlUrl,
    };
    project.provide('bulwarkServers', provided);
  } catch (error) {
    await manager.close();
    cleanupSync();
    throw error;
  }
}

export async function teardown(): Promise<void> {
  await manager?.close();
  cleanupSync();
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
