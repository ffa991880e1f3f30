// The checker on a history recorded by real processes: three child processes talk to a
// register owned by this process; each stamps its own invoke/ok events with
// process.hrtime (CLOCK_MONOTONIC, shared by all processes of the host), and the merged
// log is checked.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLinearizability, historyFromEvents, registerModel, type HistoryEvent, type RegisterInput, type RegisterOutput, type Value } from '../src/index.js';

type Event = HistoryEvent<RegisterInput, RegisterOutput>;
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill();
});

async function runClients(clients: number, operationsEach: number, serve: (input: RegisterInput) => RegisterOutput): Promise<Event[]> {
  const script = fileURLToPath(new URL('./fixtures/register-client.mjs', import.meta.url));
  const logs = await Promise.all(
    Array.from({ length: clients }, (_, i) => {
      const child = fork(script, [`c${i}`, String(operationsEach)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(child);
      return new Promise<Event[]>((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (code) => reject(new Error(`client c${i} exited with ${String(code)} before reporting`)));
        child.on('message', (raw) => {
          const message = raw as { done?: boolean; events?: Event[]; seq?: number; input?: RegisterInput };
          if (message.done) {
            resolve(message.events ?? []);
            return;
          }
          // Answer a little later so operations of different clients overlap.
          setImmediate(() => child.send({ seq: message.seq, output: serve(message.input!) }));
        });
      });
    }),
  );
  return logs.flat();
}

describe('histories from real processes', () => {
  it('a register served by one process is linearizable across client processes', async () => {
    let value: Value = null;
    const events = await runClients(3, 40, (input) => {
      if (input.type === 'write') {
        value = input.value;
        return null;
      }
      return value;
    });
    const history = historyFromEvents(events);
    expect(history).toHaveLength(120);
    expect(checkLinearizability({ model: registerModel(), history }).verdict).toBe('ok');
  });

  it('a server that answers reads from a stale copy is caught', async () => {
    let value: Value = null;
    let stale: Value = null;
    let reads = 0;
    const events = await runClients(3, 40, (input) => {
      if (input.type === 'write') {
        value = input.value;
        return null;
      }
      // Refresh the copy only every fifth read.
      if (reads++ % 5 === 0) stale = value;
      return stale;
    });
    const result = checkLinearizability({ model: registerModel(), history: historyFromEvents(events) });
    expect(result.verdict).toBe('illegal');
  });
});
