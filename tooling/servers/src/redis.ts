import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { removeDir } from './cleanup.js';
import { ServerStartError } from './errors.js';
import { LOOPBACK, freePort, makeTempDir, sleep } from './net.js';
import { exited, logTail, signal, spawnLogged, terminate, type ServerState } from './process.js';

export interface RedisServerOptions {
  /** Extra `redis-server` arguments, e.g. `['--appendonly', 'yes']`. */
  extraArgs?: readonly string[];
  /** How long to wait for PONG. Default 15 s. */
  startTimeoutMs?: number;
}

/** One real `redis-server` on a free loopback port, with a private temp dir. */
export class RedisServer {
  readonly host = LOOPBACK;
  #child: ChildProcess | undefined;
  #state: ServerState = 'stopped';

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly bin: string,
    private readonly options: RedisServerOptions,
  ) {}

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }
  get state(): ServerState {
    return this.#state;
  }
  get pid(): number | undefined {
    return this.#child?.pid;
  }
  get logFile(): string {
    return join(this.dir, 'redis.log');
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const bin = findBinary('redis-server', 'BULWARK_REDIS_SERVER_BIN');
    let lastError: unknown;
    // The free port can be taken between probing and binding; retry with another.
    for (let attempt = 0; attempt < 5; attempt++) {
      const dir = makeTempDir('redis');
      const server = new RedisServer(await freePort(), dir, bin, options);
      try {
        await server.#spawn();
        return server;
      } catch (error) {
        lastError = error;
        await server.destroy();
      }
    }
    throw lastError;
  }

  async #spawn(): Promise<void> {
    const args = [
      '--port', String(this.port),
      '--bind', this.host,
      '--dir', this.dir,
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--protected-mode', 'no',
      '--loglevel', 'warning',
      ...(this.options.extraArgs ?? []),
    ];
    const child = spawnLogged(this.bin, args, this.logFile, this.dir);
    this.#child = child;
    this.#state = 'running';
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 15_000);
    while (Date.now() < deadline) {
      if (exited(child)) break;
      if (await ping(this.port)) return;
      await sleep(25);
    }
    this.#state = 'stopped';
    await terminate(child, 'SIGKILL');
    throw new ServerStartError(`redis-server on port ${this.port} did not answer PING`, logTail(this.logFile));
  }

  /** Graceful shutdown (SIGTERM). */
  async stop(): Promise<void> {
    if (this.#child) await terminate(this.#child, 'SIGTERM');
    this.#state = 'stopped';
  }
  /** Abrupt death (SIGKILL), as in a crash. */
  async kill(): Promise<void> {
    if (this.#child) await terminate(this.#child, 'SIGKILL');
    this.#state = 'stopped';
  }
  /** Freezes the process (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    if (!this.#child) throw new Error('redis-server is not running');
    signal(this.#child, 'SIGSTOP');
    this.#state = 'paused';
  }
  resume(): void {
    if (!this.#child) throw new Error('redis-server is not running');
    signal(this.#child, 'SIGCONT');
    this.#state = 'running';
  }
  /** Starts the server again on the same port and dir (stopping it first if needed). */
  async restart(): Promise<void> {
    if (this.#state !== 'stopped') await this.stop();
    await this.#spawn();
  }
  /** Kills the process and removes the temp dir. */
  async destroy(): Promise<void> {
    if (this.#child) await terminate(this.#child, 'SIGKILL');
    this.#state = 'stopped';
    removeDir(this.dir);
  }
}

/** Starts `count` independent Redis masters in parallel. */
export async function startRedisServers(count: number, options: RedisServerOptions = {}): Promise<RedisServer[]> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be an integer >= 1, got ${count}`);
  const results = await Promise.allSettled(Array.from({ length: count }, () => RedisServer.start(options)));
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => s.destroy()));
    throw failed.reason;
  }
  return started;
}

/** Sends an inline PING and waits for +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: LOOPBACK, port });
    let buffer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      if (buffer.includes('\r\n')) done(buffer.startsWith('+PONG'));
    });
  });
}
