// A run killed with SIGKILL cannot clean up after itself; the next run must.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { reapStaleDirs } from '../src/cleanup.js';
import { canConnect } from '../src/net.js';

const scratch = mkdtempSync(join(tmpdir(), 'bulwark-reap-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it('reaps the servers and dirs of a run that died by SIGKILL', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/start-and-hang.ts', import.meta.url))], {
    env: { ...process.env, BULWARK_SERVERS_TMPDIR: scratch },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [port, serverPid] = await new Promise<[number, number]>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /READY (\d+) (\d+)/.exec(out);
      if (match) resolve([Number(match[1]), Number(match[2])]);
    });
    child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${out}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;

  // The orphan is still serving and its dir is still there…
  expect(await canConnect(port)).toBe(true);
  expect(readdirSync(scratch)).toHaveLength(1);

  // …until the next run looks at the same base dir.
  reapStaleDirs(scratch);
  await expect.poll(() => alive(serverPid), { timeout: 5_000 }).toBe(false);
  expect(await canConnect(port)).toBe(false);
  expect(readdirSync(scratch)).toEqual([]);
});

it('leaves dirs of live owners, dirs without an owner and foreign dirs alone', () => {
  const base = mkdtempSync(join(scratch, 'base-'));
  const live = mkdtempSync(join(base, 'bulwark-redis-'));
  writeFileSync(join(live, '.owner'), String(process.pid));
  const ownerless = mkdtempSync(join(base, 'bulwark-etcd-'));
  const unrelated = mkdtempSync(join(base, 'unrelated-'));
  writeFileSync(join(unrelated, '.owner'), '999999999');
  reapStaleDirs(base);
  for (const dir of [live, ownerless, unrelated]) expect(existsSync(dir)).toBe(true);
});
