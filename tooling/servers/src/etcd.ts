import type { ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from './binaries.js';
import { removeDir } from './cleanup.js';
import { ServerStartError } from './errors.js';
import { LOOPBACK, freePort, makeTempDir, sleep } from './net.js';
import { exited, logTail, signal, spawnLogged, terminate, type ServerState } from './process.js';

export interface EtcdClusterOptions {
  /** Members; default 3. */
  size?: number;
  /** Raft heartbeat in ms (etcd default 100). Tests use 50 for quick fail-over. */
  heartbeatIntervalMs?: number;
  /** Election timeout in ms (etcd default 1000). Tests use 500. */
  electionTimeoutMs?: number;
  startTimeoutMs?: number;
}

/** One member of a real etcd cluster. */
export class EtcdMember {
  #child: ChildProcess | undefined;
  #state: ServerState = 'stopped';

  constructor(
    readonly name: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly dataDir: string,
    private readonly cluster: EtcdCluster,
  ) {}

  get clientUrl(): string {
    return `http://${LOOPBACK}:${this.clientPort}`;
  }
  get peerUrl(): string {
    return `http://${LOOPBACK}:${this.peerPort}`;
  }
  get state(): ServerState {
    return this.#state;
  }
  get pid(): number | undefined {
    return this.#child?.pid;
  }
  get logFile(): string {
    return `${this.dataDir}.log`;
  }

  /** @internal starts the process; resolves once the client port answers /version. */
  async spawn(initialClusterState: 'new' | 'existing'): Promise<void> {
    const o = this.cluster.options;
    const args = [
      `--name=${this.name}`,
      `--data-dir=${this.dataDir}`,
      `--listen-client-urls=${this.clientUrl}`,
      `--advertise-client-urls=${this.clientUrl}`,
      `--listen-peer-urls=${this.peerUrl}`,
      `--initial-advertise-peer-urls=${this.peerUrl}`,
      `--initial-cluster=${this.cluster.initialCluster}`,
      `--initial-cluster-state=${initialClusterState}`,
      `--initial-cluster-token=${this.cluster.token}`,
      `--heartbeat-interval=${o.heartbeatIntervalMs ?? 50}`,
      `--election-timeout=${o.electionTimeoutMs ?? 500}`,
      '--logger=zap',
      '--log-level=warn',
    ];
    const child = spawnLogged(this.cluster.bin, args, this.logFile, this.cluster.root);
    this.#child = child;
    this.#state = 'running';
    const deadline = Date.now() + (o.startTimeoutMs ?? 30_000);
    while (Date.now() < deadline) {
      if (exited(child)) break;
      if ((await httpGet(`${this.clientUrl}/version`)) !== undefined) return;
      await sleep(50);
    }
    this.#state = 'stopped';
    await terminate(child, 'SIGKILL');
    throw new ServerStartError(`etcd member ${this.name} did not answer on ${this.clientUrl}`, logTail(this.logFile));
  }

  /** True when this member reports a healthy cluster (it sees a leader and can serve). */
  async healthy(): Promise<boolean> {
    const body = await httpGet(`${this.clientUrl}/health`);
    if (body === undefined) return false;
    try {
      return (JSON.parse(body) as { health?: unknown }).health === 'true';
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    if (this.#child) await terminate(this.#child, 'SIGTERM');
    this.#state = 'stopped';
  }
  async kill(): Promise<void> {
    if (this.#child) await terminate(this.#child, 'SIGKILL');
    this.#state = 'stopped';
  }
  pause(): void {
    if (!this.#child) throw new Error(`etcd member ${this.name} is not running`);
    signal(this.#child, 'SIGSTOP');
    this.#state = 'paused';
  }
  resume(): void {
    if (!this.#child) throw new Error(`etcd member ${this.name} is not running`);
    signal(this.#child, 'SIGCONT');
    this.#state = 'running';
  }
  /** Starts the member again with its data dir (it rejoins the cluster). */
  async restart(): Promise<void> {
    if (this.#state !== 'stopped') await this.stop();
    await this.spawn('existing');
  }
}

/** A real multi-member etcd cluster on loopback with temp data dirs. */
export class EtcdCluster {
  readonly members: EtcdMember[] = [];
  readonly token: string;
  readonly root: string;

  private constructor(
    readonly bin: string,
    readonly options: EtcdClusterOptions,
  ) {
    this.root = makeTempDir('etcd');
    this.token = `bulwark-${process.pid}-${Date.now()}`;
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }
  get initialCluster(): string {
    return this.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  }

  static async start(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
    const size = options.size ?? 3;
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be an integer >= 1, got ${size}`);
    const bin = findBinary('etcd', 'BULWARK_ETCD_BIN');
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const cluster = new EtcdCluster(bin, options);
      try {
        const ports = new Set<number>();
        while (ports.size < size * 2) ports.add(await freePort());
        const list = [...ports];
        for (let i = 0; i < size; i++) {
          const dataDir = join(cluster.root, `m${i}`);
          mkdirSync(dataDir, { recursive: true, mode: 0o700 });
          cluster.members.push(new EtcdMember(`m${i}`, list[2 * i]!, list[2 * i + 1]!, dataDir, cluster));
        }
        await Promise.all(cluster.members.map((m) => m.spawn('new')));
        await cluster.waitHealthy(options.startTimeoutMs ?? 30_000);
        return cluster;
      } catch (error) {
        lastError = error;
        await cluster.destroy();
      }
    }
    throw lastError;
  }

  /** Waits until every running member reports health (a leader exists and the member can serve). */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = this.members.filter((m) => m.state === 'running');
      const health = await Promise.all(running.map((m) => m.healthy()));
      if (running.length > 0 && health.every(Boolean)) return;
      if (Date.now() > deadline) {
        const tails = this.members.map((m) => `[${m.name}] ${logTail(m.logFile, 5)}`).join('\n');
        throw new ServerStartError('etcd cluster did not become healthy', tails);
      }
      await sleep(100);
    }
  }

  async destroy(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill()));
    removeDir(this.root);
  }
}

function httpGet(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const request = get(url, { timeout: 1_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(response.statusCode === 200 ? body : undefined));
      response.on('error', () => resolve(undefined));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}
