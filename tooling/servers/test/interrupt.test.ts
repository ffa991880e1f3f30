// Interrupting a test run (SIGINT to vitest, as Ctrl-C does) must leave no
// server process and no temp dir behind. This runs a real nested vitest whose
// global setup starts Redis and etcd, interrupts it, and checks.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { canConnect } from '../src/net.js';

const fixtureDir = fileURLToPath(new URL('./fixtures/interrupt/', import.meta.url));
const vitestBin = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'bulwark-interrupt-test-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('SIGINT during a run kills every server and removes every temp dir', async () => {
  const child = spawn(process.execPath, [vitestBin, 'run', '--config', 'vitest.config.ts'], {
    cwd: fixtureDir,
    env: { ...process.env, BULWARK_SERVERS_TMPDIR: scratch, BULWARK_REDIS_URLS: '', BULWARK_ETCD_ENDPOINTS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const servers = await new Promise<{ redisUrls: string[]; etcdEndpoints: string[] }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /SERVERS (\{.*\})/.exec(out);
        if (match) resolve(JSON.parse(match[1]!) as { redisUrls: string[]; etcdEndpoints: string[] });
      });
      child.once('exit', (code) => reject(new Error(`nested vitest exited early (${code}): ${out}`)));
    });
    const ports = [...servers.redisUrls, ...servers.etcdEndpoints].map((u) => Number(new URL(u).port));
    expect(ports).toHaveLength(5);
    for (const port of ports) expect(await canConnect(port)).toBe(true);
    expect(readdirSync(scratch).length).toBeGreaterThan(0);

    child.kill('SIGINT');
    await exited;

    for (const port of ports) expect(await canConnect(port)).toBe(false);
    expect(readdirSync(scratch)).toEqual([]);
  } finally {
    child.kill('SIGKILL');
  }
});
