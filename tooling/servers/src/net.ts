import { createServer, connect } from 'node:net';
import { mkdtempSync, existsSync, accessSync, constants, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reapStaleDirs, trackDir } from './cleanup.js';

export const LOOPBACK = '127.0.0.1';
export const OWNER_FILE = '.owner';
export const PIDS_FILE = '.pids';

/** Asks the kernel for a free loopback port. A race with another process is possible; callers retry. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a probe socket'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** True once something accepts TCP connections on the port. */
export function canConnect(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: LOOPBACK, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A tracked temp dir, on tmpfs (/dev/shm) when available so fsync-heavy etcd stays fast. */
export function makeTempDir(prefix: string): string {
  const base = process.env['BULWARK_SERVERS_TMPDIR'] ?? preferredBase();
  reapStaleDirs(base);
  const dir = mkdtempSync(join(base, `bulwark-${prefix}-`));
  // The owner's pid lets a later run reap this dir (and its servers) if this
  // process dies by SIGKILL, which no in-process hook can handle.
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  trackDir(dir);
  return dir;
}

function preferredBase(): string {
  if (existsSync('/dev/shm')) {
    try {
      accessSync('/dev/shm', constants.W_OK);
      return '/dev/shm';
    } catch {
      // fall through
    }
  }
  return tmpdir();
}
