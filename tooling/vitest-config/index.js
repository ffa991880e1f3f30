// Shared vitest defaults for every Bulwark workspace.
//
// A package's vitest.config.ts is two lines:
//
//   import { bulwarkVitestConfig } from '@bulwark/vitest-config';
//   export default bulwarkVitestConfig({ servers: { redis: 5 } });
//
// `servers` declares which real servers the package's tests need. The global
// setup of @bulwark/servers starts them once per test run (or reads
// BULWARK_REDIS_URLS / BULWARK_ETCD_ENDPOINTS to use existing ones) and hands
// their addresses to tests through vitest's provide/inject.
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

// Resolved by path rather than as a dependency: @bulwark/servers uses this
// config for its own tests, and a package cycle would upset turbo.
const serversSetup = fileURLToPath(new URL('../servers/src/vitest-setup.ts', import.meta.url));

/**
 * @param {import('./index.js').BulwarkVitestOptions} [options]
 */
export function bulwarkVitestConfig(options = {}) {
  const redis = options.servers?.redis ?? 0;
  const etcd = options.servers?.etcd ?? false;
  const needsServers = redis > 0 || etcd;
  if (needsServers) {
    // The global setup runs in this (the main) process; the config module is
    // evaluated first, so an environment variable is the simplest channel.
    process.env.BULWARK_SERVERS_NEEDED = JSON.stringify({ redis, etcd });
  }
  const include = options.include ?? ['src/**/*.test.ts', 'test/**/*.test.ts'];
  return defineConfig({
    test: {
      include,
      pool: 'forks',
      testTimeout: options.testTimeout ?? (needsServers ? 60_000 : 20_000),
      hookTimeout: options.hookTimeout ?? 120_000,
      globalSetup: needsServers ? [serversSetup] : [],
      reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
      ...(options.maxWorkers !== undefined ? { maxWorkers: options.maxWorkers } : {}),
      ...(options.fileParallelism !== undefined ? { fileParallelism: options.fileParallelism } : {}),
    },
  });
}
