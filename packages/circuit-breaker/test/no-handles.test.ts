import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./fixtures/exit-child.ts', import.meta.url));

describe('process lifetime', () => {
  it('a process that used breakers (timeouts and hung calls included) exits by itself', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A handle keeping it alive would make it run until the 60 s timers fire; give up well before.
    const guard = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      proc.on('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
    );
    clearTimeout(guard);
    expect(stderr).toBe('');
    expect(signal).toBeNull(); // not killed by the guard
    expect(code).toBe(0);
    expect(stdout).toBe('done half-open 1 waiting\n');
  });
});
