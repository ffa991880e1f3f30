// Shared by the token-bucket and sliding-window integration tests (sliding-window
// imports this file by relative path): multi-process load children and Redis time.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const childPath = fileURLToPath(new URL('./fixtures/child.ts', import.meta.url));
const tokenBucketLimiterPath = fileURLToPath(new URL('./fixtures/token-bucket-limiter.ts', import.meta.url));

export interface ChildResult {
  admitted: number;
  calls: number;
  errors: number;
  /** Redis TIME (ms) of each admission, for limiters whose results report it (`serverTimeMs`). */
  times: number[];
}

/**
 * Starts `count` load processes connected to `redisUrl` and resolves when all are ready.
 * `limiterModule` is the path of a module exporting `createLimiter` (see fixtures/child.ts);
 * the default builds a RedisTokenBucket.
 */
export async function startChildren(count: number, redisUrl: string, limiterModule = tokenBucketLimiterPath): Promise<ChildProcess[]> {
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['--import', 'tsx', childPath, redisUrl, limiterModule], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          child.once('error', reject);
          child.once('exit', (code) => reject(new Error(`child exited early with ${String(code)}`)));
          child.on('message', (m: { type: string }) => {
            if (m.type === 'ready') resolve();
          });
        }),
    ),
  );
  for (const child of children) child.removeAllListeners('exit');
  return children;
}

/** Sends one run to every child (with its own extra fields) and collects the results. */
export async function runAll(children: ChildProcess[], message: (index: number) => Record<string, unknown>): Promise<ChildResult[]> {
  return Promise.all(
    children.map(
      (child, i) =>
        new Promise<ChildResult>((resolve, reject) => {
          const onMessage = (m: { type: string; message?: string } & ChildResult): void => {
            if (m.type === 'result') {
              child.off('message', onMessage);
              resolve(m);
            } else if (m.type === 'error') {
              child.off('message', onMessage);
              reject(new Error(m.message));
            }
          };
          child.on('message', onMessage);
          child.send({ type: 'run', ...message(i) });
        }),
    ),
  );
}

export function stopChildren(children: readonly ChildProcess[]): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Redis's own clock in ms. */
export async function redisTimeMs(client: { time(): Promise<unknown> }): Promise<number> {
  const [seconds, micros] = (await client.time()) as [string | number, string | number];
  return Number(seconds) * 1000 + Number(micros) / 1000;
}
