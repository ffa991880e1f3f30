import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HashRing } from '../src/index.js';

const KEYS = 5000;
const ids = Array.from({ length: 12 }, (_, i) => `10.1.0.${i}:6379`);

function childOwners(order: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/child.ts', import.meta.url)), String(KEYS), ...order], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(stdout) as string[]);
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

describe('the same node set maps keys identically in every process', () => {
  it('two child processes adding nodes in different orders agree with each other and with this process', async () => {
    const reversed = [...ids].reverse();
    const interleaved = [...ids.filter((_, i) => i % 2 === 1), ...ids.filter((_, i) => i % 2 === 0)];
    const [a, b] = await Promise.all([childOwners(reversed), childOwners(interleaved)]);
    const here = new HashRing({ nodes: ids });
    const local = Array.from({ length: KEYS }, (_, i) => here.lookup(`key:${i}`));
    expect(a).toHaveLength(KEYS);
    expect(a).toEqual(local);
    expect(b).toEqual(local);
    // Not a degenerate mapping: every node owns keys.
    expect(new Set(local).size).toBe(ids.length);
  }, 60_000);
});
