import { describe, expect, it } from 'vitest';
import { constant, uniform } from './distribution.js';
import { randomNemesis } from './nemesis.js';
import { Simulation, simulate, type NodeContext, type NodeSpec, type SimNode } from './simulation.js';

type Msg = { readonly kind: 'ping' | 'pong'; readonly n: number };

/** A node that records what it sees and answers pings. */
function recorder(id: string, log: string[], options: Partial<NodeSpec<Msg>> = {}): NodeSpec<Msg> {
  const node: SimNode<Msg> = {
    onMessage(ctx, from, message) {
      log.push(`${ctx.now().toFixed(3)} ${id}<-${from} ${message.kind}${message.n}`);
      if (message.kind === 'ping') ctx.send(from, { kind: 'pong', n: message.n });
    },
  };
  return { id, node, ...options };
}

/** A gossiping cluster with timers, ticks, storage and randomness: exercises every event kind. */
function gossipCluster(size: number): NodeSpec<Msg>[] {
  return Array.from({ length: size }, (_, i) => {
    const id = `n${i + 1}`;
    let counter = 0;
    const node: SimNode<Msg> = {
      onStart(ctx) {
        ctx.setTimer(ctx.random.between(1, 20), 'gossip');
      },
      onRestart(ctx) {
        const saved = ctx.storage.read('counter');
        counter = typeof saved === 'string' ? Number(saved) : 0;
        ctx.setTimer(5, 'gossip');
      },
      onCrash() {
        counter = 0;
      },
      onTimer(ctx) {
        ctx.send(ctx.random.pick(ctx.peers), { kind: 'ping', n: ++counter });
        ctx.storage.write('counter', String(counter));
        if (ctx.random.chance(0.5)) ctx.storage.sync();
        ctx.setTimer(ctx.random.between(1, 20), 'gossip');
      },
      onTick(ctx) {
        ctx.trace(`counter=${counter}`);
      },
      onMessage(ctx, from, message) {
        if (message.kind === 'ping') ctx.send(from, { kind: 'pong', n: message.n });
      },
    };
    return { id, node, tickMs: 25 };
  });
}

function chaoticRun(seed: number) {
  return simulate<unknown, unknown, Msg>({
    seed,
    nodes: gossipCluster(5),
    network: { defaults: { delay: uniform(1, 10), dropRate: 0.05, duplicateRate: 0.05 } },
    nemesis: randomNemesis({ crashModes: ['lose-unsynced', 'keep-prefix', 'torn'] }),
    durationMs: 2_000,
  });
}

describe('determinism', () => {
  it('the same seed gives a byte-identical trace; another seed differs', () => {
    const a = chaoticRun(42);
    const b = chaoticRun(42);
    const c = chaoticRun(43);
    expect(a.trace.length).toBeGreaterThan(500);
    expect(a.trace.join('\n')).toBe(b.trace.join('\n'));
    expect(a.traceHash).toBe(b.traceHash);
    expect(c.traceHash).not.toBe(a.traceHash);
    // The run really was chaotic.
    expect(a.stats.crashes).toBeGreaterThan(0);
    expect(a.stats.messagesDropped).toBeGreaterThan(0);
    expect(a.stats.messagesDuplicated).toBeGreaterThan(0);
    expect(a.trace.some((line) => line.includes('nemesis partition'))).toBe(true);
  });

  it('the hash does not depend on whether trace lines are kept', () => {
    const kept = chaoticRun(7);
    const dropped = simulate<unknown, unknown, Msg>({
      seed: 7,
      nodes: gossipCluster(5),
      network: { defaults: { delay: uniform(1, 10), dropRate: 0.05, duplicateRate: 0.05 } },
      nemesis: randomNemesis({ crashModes: ['lose-unsynced', 'keep-prefix', 'torn'] }),
      durationMs: 2_000,
      recordTrace: false,
    });
    expect(dropped.trace).toEqual([]);
    expect(dropped.traceHash).toBe(kept.traceHash);
  });

  it('string seeds work and differ from each other', () => {
    expect(chaoticRun(1).traceHash).not.toBe(simulate({ seed: 'one', nodes: gossipCluster(5), durationMs: 2_000 }).traceHash);
  });
});

describe('network', () => {
  it('delivers after the link delay in virtual time', () => {
    const log: string[] = [];
    const sim = new Simulation<unknown, unknown, Msg>({
      seed: 1,
      nodes: [recorder('a', log), recorder('b', log)],
      network: { defaults: { delay: constant(7) } },
    });
    sim.context('a').send('b', { kind: 'ping', n: 1 });
    sim.run();
    expect(log).toEqual(['7.000 b<-a ping1', '14.000 a<-b pong1']);
  });

  it('two-way partitions block both directions, heal restores them', () => {
    const log: string[] = [];
    const sim = new Simulation<unknown, unknown, Msg>({ seed: 1, nodes: [recorder('a', log), recorder('b', log)], network: { defaults: { delay: constant(1) } } });
    sim.apply({ type: 'partition', groups: [['a'], ['b']] });
    sim.context('a').send('b', { kind: 'ping', n: 1 });
    sim.context('b').send('a', { kind: 'ping', n: 2 });
    sim.run();
    expect(log).toEqual([]);
    sim.apply({ type: 'heal' });
    sim.context('a').send('b', { kind: 'ping', n: 3 });
    sim.run();
    expect(log).toEqual(['1.000 b<-a ping3', '2.000 a<-b pong3']);
  });

  it('one-way partitions block one direction only', () => {
    const log: string[] = [];
    const sim = new Simulation<unknown, unknown, Msg>({ seed: 1, nodes: [recorder('a', log), recorder('b', log)], network: { defaults: { delay: constant(1) } } });
    sim.apply({ type: 'partition-one-way', from: ['b'], to: ['a'] });
    sim.context('a').send('b', { kind: 'ping', n: 1 }); // arrives, but the pong is lost
    sim.run();
    expect(log).toEqual(['1.000 b<-a ping1']);
  });

  it('messages in flight when a partition starts are lost', () => {
    const log: string[] = [];
    const sim = new Simulation<unknown, unknown, Msg>({ seed: 1, nodes: [recorder('a', log), recorder('b', log)], network: { defaults: { delay: constant(10) } } });
    sim.context('a').send('b', { kind: 'ping', n: 1 });
    sim.run({ untilMs: 5 });
    sim.apply({ type: 'partition', groups: [['a'], ['b']] });
    sim.run();
    expect(log).toEqual([]);
    expect(sim.stats().messagesDropped).toBe(1);
  });

  it('drop and duplicate rates are applied per message', () => {
    const log: string[] = [];
    const sim = new Simulation<unknown, unknown, Msg>({
      seed: 3,
      nodes: [recorder('a', log), { id: 'b', node: { onMessage: (_ctx, _from, m) => log.push(`${m.n}`) } }],
      network: { defaults: { delay: uniform(1, 2), dropRate: 0.3, duplicateRate: 0.3 } },
    });
    for (let n = 0; n < 1000; n++) sim.context('a').send('b', { kind: 'ping', n });
    sim.run();
    const stats = sim.stats();
    expect(stats.messagesDropped).toBeGreaterThan(230);
    expect(stats.messagesDropped).toBeLessThan(370);
    expect(stats.messagesDuplicated).toBeGreaterThan(150);
    expect(log.length).toBe(1000 - stats.messagesDropped + stats.messagesDuplicated);
  });

  it('reorders without fifo, keeps order with fifo', () => {
    const order = (fifo: boolean): number[] => {
      const got: number[] = [];
      const sim = new Simulation<unknown, unknown, Msg>({
        seed: 5,
        nodes: [{ id: 'a', node: { onMessage: () => undefined } }, { id: 'b', node: { onMessage: (_c, _f, m) => got.push(m.n) } }],
        network: { defaults: { delay: uniform(1, 50), fifo } },
      });
      for (let n = 0; n < 50; n++) sim.context('a').send('b', { kind: 'ping', n });
      sim.run();
      return got;
    };
    const sorted = Array.from({ length: 50 }, (_, i) => i);
    expect(order(false)).not.toEqual(sorted);
    expect([...order(false)].sort((x, y) => x - y)).toEqual(sorted);
    expect(order(true)).toEqual(sorted);
  });

  it('per-link overrides and nemesis link actions with wildcards', () => {
    const log: string[] = [];
    const sim = new Simulation<unknown, unknown, Msg>({
      seed: 1,
      nodes: [recorder('a', log), recorder('b', log), recorder('c', log)],
      network: { defaults: { delay: constant(1) }, links: [{ from: 'a', to: 'c', delay: constant(30) }] },
    });
    sim.apply({ type: 'link', from: '*', to: 'b', options: { dropRate: 1 } });
    sim.context('a').send('b', { kind: 'ping', n: 1 });
    sim.context('a').send('c', { kind: 'ping', n: 2 });
    sim.run();
    expect(log).toEqual(['30.000 c<-a ping2', '31.000 a<-c pong2']);
    sim.apply({ type: 'reset-links' });
    sim.context('a').send('b', { kind: 'ping', n: 3 });
    sim.run();
    expect(log.slice(2)).toEqual(['32.000 b<-a ping3', '33.000 a<-b pong3']);
  });

  it('clones messages so a receiver cannot mutate the sender’s object', () => {
    const received: { n: number }[] = [];
    const sim = new Simulation<unknown, unknown, { n: number }>({
      seed: 1,
      nodes: [{ id: 'a', node: { onMessage: () => undefined } }, { id: 'b', node: { onMessage: (_c, _f, m) => received.push(m) } }],
    });
    const original = { n: 1 };
    sim.context('a').send('b', original);
    sim.run();
    received[0]!.n = 99;
    expect(original.n).toBe(1);
  });

  it('rejects unknown destinations and bad options', () => {
    const sim = new Simulation<unknown, unknown, Msg>({ seed: 1, nodes: [recorder('a', [])] });
    expect(() => sim.context('a').send('zz', { kind: 'ping', n: 1 })).toThrow(RangeError);
    expect(() => new Simulation({ seed: 1, nodes: [recorder('a', []), recorder('a', [])] })).toThrow(TypeError);
    expect(() => new Simulation({ seed: 1, nodes: [recorder('a', [])], network: { defaults: { dropRate: 2 } } })).toThrow(/dropRate/);
    expect(() => new Simulation({ seed: -1, nodes: [] })).toThrow(RangeError);
    expect(() => new Simulation({ seed: 1, nodes: [recorder('a', [], { tickMs: 0 })] })).toThrow(/tickMs/);
  });
});

describe('crash, restart and storage', () => {
  function durableNode(events: string[]): NodeSpec<Msg> {
    let memory = 0;
    return {
      id: 'a',
      tickMs: 10,
      node: {
        onStart(ctx) {
          ctx.setTimer(100, 'long');
        },
        onTick() {
          events.push('tick');
        },
        onTimer(_ctx, tag) {
          events.push(`timer ${tag}`);
        },
        onMessage(ctx, _from, m) {
          memory = m.n;
          ctx.storage.write('synced', String(m.n));
          ctx.storage.sync();
          ctx.storage.write('unsynced', String(m.n));
        },
        onCrash() {
          events.push(`crash memory=${memory}`);
          memory = 0;
        },
        onRestart(ctx: NodeContext<Msg>) {
          events.push(`restart synced=${String(ctx.storage.read('synced'))} unsynced=${String(ctx.storage.read('unsynced'))}`);
        },
      },
    };
  }

  it('loses unsynced writes, keeps synced ones, stops timers and ticks while down', () => {
    const events: string[] = [];
    const sim = new Simulation<unknown, unknown, Msg>({
      seed: 1,
      nodes: [durableNode(events), recorder('b', [])],
      network: { defaults: { delay: constant(1) } },
      nemesis: [
        { atMs: 15, action: { type: 'crash', node: 'a' } },
        { atMs: 200, action: { type: 'restart', node: 'a' } },
      ],
    });
    sim.context('b').send('a', { kind: 'ping', n: 5 });
    sim.run({ untilMs: 14 });
    expect(sim.storage('a').read('unsynced')).toBe('5');
    sim.run({ untilMs: 150 });
    expect(sim.isUp('a')).toBe(false);
    sim.context('b').send('a', { kind: 'ping', n: 6 }); // dropped: destination down
    sim.run({ untilMs: 199 });
    expect(events).toEqual(['tick', 'crash memory=5']); // no ticks, no 'long' timer while down
    sim.run({ untilMs: 215 });
    expect(events.slice(2)).toEqual(['restart synced=5 unsynced=undefined', 'tick']);
    expect(sim.stats().messagesDropped).toBe(1);
  });

  it('a context from before the crash can no longer act', () => {
    const log: string[] = [];
    const sim = new Simulation<unknown, unknown, Msg>({ seed: 1, nodes: [recorder('a', log), recorder('b', log)], network: { defaults: { delay: constant(1) } } });
    const stale = sim.context('a');
    sim.apply({ type: 'crash', node: 'a' });
    sim.apply({ type: 'restart', node: 'a' });
    stale.send('b', { kind: 'ping', n: 1 });
    sim.run();
    expect(log).toEqual([]);
    sim.context('a').send('b', { kind: 'ping', n: 2 });
    sim.run();
    expect(log).toEqual(['1.000 b<-a ping2', '2.000 a<-b pong2']);
  });
});

describe('clocks', () => {
  it('applies per-node offset and drift to now(), timers and ticks', () => {
    const seen: string[] = [];
    const node = (id: string): NodeSpec<Msg> => ({
      id,
      tickMs: 10,
      clock: id === 'fast' ? { offsetMs: 1000, drift: 0.25 } : {},
      node: {
        onMessage: () => undefined,
        onStart(ctx) {
          ctx.setTimer(50, 'lease');
        },
        onTimer(ctx, tag) {
          seen.push(`${id} ${tag} local=${ctx.now().toFixed(1)}`);
        },
      },
    });
    const sim = new Simulation<unknown, unknown, Msg>({ seed: 1, nodes: [node('fast'), node('normal')] });
    sim.run({ untilMs: 100 });
    // The fast clock runs 25% fast: its 50 ms lease expires after 40 ms of real (virtual) time.
    expect(seen).toEqual(['fast lease local=1050.0', 'normal lease local=50.0']);
    expect(sim.context('fast').now()).toBeCloseTo(1000 + 100 * 1.25, 6);
    sim.apply({ type: 'clock', node: 'normal', jumpMs: -30, drift: -0.5 });
    sim.run({ untilMs: 120 });
    expect(sim.context('normal').now()).toBeCloseTo(100 - 30 + 20 * 0.5, 6);
  });
});

describe('workload clients', () => {
  it('records ok, fail and info (timeout) outcomes, and a new process after info', () => {
    type Req = { kind: 'req'; id: number; input: string } | { kind: 'res'; id: number; ok: boolean; output: string };
    const server: NodeSpec<Req> = {
      id: 's',
      node: {
        onMessage(ctx, from, m) {
          if (m.kind !== 'req') return;
          if (m.input === 'slow') return; // never answers: timeout → info
          ctx.send(from, { kind: 'res', id: m.id, ok: m.input !== 'bad', output: m.input.toUpperCase() });
        },
      },
    };
    const inputs = ['a', 'bad', 'slow', 'b'];
    let i = 0;
    const result = simulate<string, string, Req>({
      seed: 1,
      nodes: [server],
      network: { defaults: { delay: constant(1) } },
      workload: {
        clients: 1,
        operations: 4,
        timeoutMs: 20,
        thinkTime: constant(0),
        generate: () => inputs[i++]!,
        request: (input, info) => ({ to: 's', message: { kind: 'req', id: info.requestId, input } }),
        reply: (m) => (m.kind !== 'res' ? undefined : m.ok ? { requestId: m.id, ok: true, output: m.output } : { requestId: m.id, ok: false, error: 'rejected' }),
      },
    });
    expect(result.stoppedBy).toBe('workload-done');
    expect(result.history.map((op) => [op.process, op.input, op.status, op.output ?? null])).toEqual([
      [0, 'a', 'ok', 'A'],
      [0, 'bad', 'fail', null],
      [0, 'slow', 'info', null],
      [1, 'b', 'ok', 'B'],
    ]);
    expect(result.history[2]!.returnedAt).toBe(Number.POSITIVE_INFINITY);
    expect(result.history[0]!.invokedAt).toBe(0);
    expect(result.history[0]!.returnedAt).toBe(2);
  });
});

describe('nemesis', () => {
  it('randomNemesis never crashes more than maxCrashed nodes and validates options', () => {
    const result = simulate<unknown, unknown, Msg>({
      seed: 9,
      nodes: gossipCluster(5),
      nemesis: randomNemesis({ faults: ['crash'], maxCrashed: 2, recoverRate: 0.2 }),
      durationMs: 5_000,
    });
    let down = 0;
    let maxDown = 0;
    for (const line of result.trace) {
      if (/ crashed /.test(line)) maxDown = Math.max(maxDown, ++down);
      if (/ restarted /.test(line)) down--;
    }
    expect(maxDown).toBe(2);
    expect(() => randomNemesis({ faults: ['meteor' as 'crash'] })).toThrow(RangeError);
    expect(() => randomNemesis({ recoverRate: 2 })).toThrow(RangeError);
  });
});
