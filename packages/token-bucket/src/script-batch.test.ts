// ScriptBatcher against a stub client (the real-Redis scenarios are in test/coalesce-suite.ts):
// argument layout, per-slot errors, malformed replies, a client that throws, and a policy that throws.
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ScriptBatcher, ScriptSlotError } from './script-batch.js';
import { DeadlineQueue } from './store.js';

type Reply = (argv: (string | number)[]) => Promise<unknown>;

function batcher(reply: Reply, onStoreError: (error: Error, key: string, n: number) => string | Promise<string> = (error, key) => `failed ${key}: ${error.message}`) {
  const calls: (string | number)[][] = [];
  const client = {
    bulwarkTest(argv: (string | number)[]) {
      calls.push(argv);
      return reply(argv);
    },
  } as unknown as Redis;
  const limiter = new ScriptBatcher<string>({
    client,
    command: 'bulwarkTest',
    prefix: 'p:',
    args: ['A', 'B'],
    headerWidth: 1,
    slotWidth: 2,
    deadlines: new DeadlineQueue(60_000),
    decode: (value, offset) => `${String(value[offset])}/${String(value[offset + 1])}`,
    onStoreError,
    maxBatch: 3,
  });
  return { calls, limiter };
}

describe('ScriptBatcher', () => {
  it('sends the keys, the shared arguments and each n in call order; splits at maxBatch', async () => {
    const { calls, limiter } = batcher((argv) => {
      const size = argv[0] as number;
      return Promise.resolve(['now', ...Array.from({ length: size }, (_, i) => [1, argv[1 + size + 2 + i]]).flat()]);
    });
    const results = await Promise.all([limiter.submit('a', 1, undefined), limiter.submit('b', 2, undefined), limiter.submit('a', 3, undefined), limiter.submit('c', 1, undefined)]);
    expect(calls).toEqual([
      [3, 'p:a', 'p:b', 'p:a', 'A', 'B', '1', '2', '3'],
      [1, 'p:c', 'A', 'B', '1'],
    ]);
    expect(results).toEqual(['1/1', '1/2', '1/3', '1/1']);
  });

  it('fails only the slot marked -1, through onStoreError with the script’s message', async () => {
    const errors: Error[] = [];
    const { limiter } = batcher(
      () => Promise.resolve(['now', 1, 5, -1, 'WRONGTYPE nope', 0, 4]),
      (error, key) => {
        errors.push(error);
        return `policy ${key}`;
      },
    );
    const results = await Promise.all([limiter.submit('a', 1, undefined), limiter.submit('b', 1, undefined), limiter.submit('c', 1, undefined)]);
    expect(results).toEqual(['1/5', 'policy b', '0/4']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ScriptSlotError);
    expect(errors[0]!.message).toBe('WRONGTYPE nope');
  });

  it('decides every caller by onStoreError on a malformed reply, a rejected call or a client that throws', async () => {
    const short = batcher(() => Promise.resolve(['now', 1]));
    expect(await Promise.all([short.limiter.submit('a', 1, undefined), short.limiter.submit('b', 1, undefined)])).toEqual([
      'failed a: unexpected reply from the rate-limit script',
      'failed b: unexpected reply from the rate-limit script',
    ]);
    const rejected = batcher(() => Promise.reject(new Error('Connection is closed.')));
    expect(await Promise.all([rejected.limiter.submit('a', 1, undefined), rejected.limiter.submit('b', 1, undefined)])).toEqual([
      'failed a: Connection is closed.',
      'failed b: Connection is closed.',
    ]);
    const throwing = batcher(() => {
      throw new Error('not writable');
    });
    expect(await throwing.limiter.submit('a', 1, undefined)).toBe('failed a: not writable');
  });

  it('rejects the caller when the policy throws or rejects, never leaving a rejection unhandled', async () => {
    const thrower = batcher(
      () => Promise.reject(new Error('down')),
      () => {
        throw new Error('policy says throw');
      },
    );
    await expect(thrower.limiter.submit('a', 1, undefined)).rejects.toThrow('policy says throw');
    const rejecter = batcher(
      () => Promise.reject(new Error('down')),
      () => Promise.reject(new Error('fallback failed')),
    );
    await expect(rejecter.limiter.submit('a', 1, undefined)).rejects.toThrow('fallback failed');
  });

  it('does not send callers that aborted while queued, and sends nothing when all did', async () => {
    const { calls, limiter } = batcher(() => Promise.resolve(['now', 1, 0]));
    const controller = new AbortController();
    const aborted = limiter.submit('a', 1, controller.signal);
    const kept = limiter.submit('b', 1, undefined);
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(await kept).toBe('1/0');
    const alone = new AbortController();
    const lone = limiter.submit('c', 1, alone.signal);
    alone.abort(new Error('gone'));
    await expect(lone).rejects.toThrow('gone');
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(calls).toEqual([[1, 'p:b', 'A', 'B', '1']]);
  });
});
