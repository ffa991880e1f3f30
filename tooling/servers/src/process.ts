import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { trackChild } from './cleanup.js';

export type ServerState = 'running' | 'paused' | 'stopped';

/** Spawns a server with its output appended to a log file, tracked for cleanup. */
export function spawnLogged(bin: string, args: readonly string[], logFile: string, dir: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(bin, args, { stdio: ['ignore', fd, fd], detached: false });
    trackChild(child, dir);
    // A spawn failure (ENOENT, EACCES) surfaces as an 'error' event; keep it from crashing the process.
    child.on('error', () => undefined);
    return child;
  } finally {
    closeSync(fd);
  }
}

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Sends a signal and waits for the process to exit (escalating to SIGKILL after `graceMs`). */
export async function terminate(child: ChildProcess, signal: NodeJS.Signals, graceMs = 5_000): Promise<void> {
  if (exited(child)) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    // A stopped process only acts on SIGTERM once continued.
    if (signal !== 'SIGKILL' && child.pid !== undefined) process.kill(child.pid, 'SIGCONT');
    child.kill(signal);
  } catch {
    // already gone
  }
  const timer = setTimeout(() => {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }, graceMs);
  timer.unref();
  await done;
  clearTimeout(timer);
}

export function signal(child: ChildProcess, name: 'SIGSTOP' | 'SIGCONT'): void {
  if (exited(child) || child.pid === undefined) throw new Error(`cannot send ${name}: the process is not running`);
  process.kill(child.pid, name);
}

export function logTail(logFile: string, lines = 20): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
