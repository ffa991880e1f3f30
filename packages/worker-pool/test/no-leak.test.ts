import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./fixtures/child.ts', import.meta.url));

/** Runs the child; resolves with its exit code and output, or 'hung' if it has not exited after the deadline. */
function runChild(mode: string): Promise<{ exit: number | null | 'hung'; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Generous bound: this is a liveness check (does it exit at all), not a timing assertion.
    const deadline = setTimeout(() => {
      proc.kill('SIGKILL');
      resolve({ exit: 'hung', stdout, stderr });
    }, 15_000);
    proc.on('error', reject);
    proc.on('exit', (code) => {
      clearTimeout(deadline);
      resolve({ exit: code, stdout, stderr });
    });
  });
}

describe('no leaked threads', () => {
  it('a process exits on its own after close()', async () => {
    const result = await runChild('close');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('done 9900 threads=0\n');
    expect(result.exit).toBe(0);
  });

  it('an idle pool that was never closed does not keep the process alive either', async () => {
    const result = await runChild('no-close');
    expect(result.stdout).toMatch(/^done 9900 threads=[12]\n$/);
    expect(result.exit).toBe(0);
  });
});
