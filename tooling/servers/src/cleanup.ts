// Every process and temp dir this module creates is registered here, and
// removed synchronously when the process exits or is interrupted, so a test
// run killed with SIGINT leaves neither servers nor directories behind.
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
let installed = false;
const reapedBases = new Set<string>();

/** Registers a server process; its pid is also recorded in `dir` so a later run can reap it. */
export function trackChild(child: ChildProcess, dir?: string): void {
  install();
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (dir !== undefined && child.pid !== undefined) {
    try {
      appendFileSync(join(dir, '.pids'), `${child.pid}\n`);
    } catch {
      // the dir is gone: nothing to record
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isServerProcess(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /(redis-server|etcd)/.test(cmdline);
  } catch {
    return false;
  }
}

/**
 * Removes `bulwark-*` dirs under `base` left by a run that died without
 * cleaning up (SIGKILL), and kills the servers recorded in them. A dir is
 * stale only when it names its owner's pid and that process is gone.
 */
export function reapStaleDirs(base: string): void {
  if (reapedBases.has(base)) return;
  reapedBases.add(base);
  let entries: string[];
  try {
    entries = readdirSync(base).filter((name) => name.startsWith('bulwark-'));
  } catch {
    return;
  }
  for (const name of entries) {
    const dir = join(base, name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, '.owner'), 'utf8'));
    } catch {
      continue;
    }
    if (!Number.isInteger(owner) || owner <= 0 || alive(owner)) continue;
    let pids: number[] = [];
    try {
      pids = readFileSync(join(dir, '.pids'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      // no servers were recorded
    }
    for (const pid of pids) {
      if (Number.isInteger(pid) && pid > 0 && alive(pid) && isServerProcess(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export function trackDir(dir: string): void {
  install();
  dirs.add(dir);
}

export function removeDir(dir: string): void {
  dirs.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Kills every tracked process (SIGKILL also ends stopped ones) and removes every tracked dir. */
export function cleanupSync(): void {
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
  dirs.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', cleanupSync);
  for (const [signal, number] of [
    ['SIGINT', 2],
    ['SIGTERM', 15],
    ['SIGHUP', 1],
  ] as const) {
    process.once(signal, () => {
      cleanupSync();
      // Re-raise the default behaviour: exit with the conventional status.
      process.exit(128 + number);
    });
  }
}
