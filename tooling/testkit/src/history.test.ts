import { describe, expect, it } from 'vitest';
import { HistoryRecorder, historyFromEvents, type HistoryEvent } from './history.js';

describe('HistoryRecorder', () => {
  it('records ok/fail/info with times from the given clock', () => {
    let t = 0;
    const recorder = new HistoryRecorder<string, number>({ clock: { now: () => t } });
    const a = recorder.invoke(0, 'a');
    t = 5;
    const b = recorder.invoke(1, 'b');
    t = 7;
    a.ok(1);
    b.info('timeout');
    const c = recorder.invoke(2, 'c');
    t = 9;
    c.fail('rejected');
    const d = recorder.invoke(0, 'd');
    expect(d.id).toBe(3);
    expect(recorder.pending).toBe(1);
    expect(recorder.history()).toEqual([
      { id: 0, process: 0, input: 'a', output: 1, status: 'ok', invokedAt: 0, returnedAt: 7 },
      { id: 1, process: 1, input: 'b', status: 'info', invokedAt: 5, returnedAt: Number.POSITIVE_INFINITY, note: 'timeout' },
      { id: 2, process: 2, input: 'c', status: 'fail', invokedAt: 7, returnedAt: 9, note: 'rejected' },
      { id: 3, process: 0, input: 'd', status: 'info', invokedAt: 9, returnedAt: Number.POSITIVE_INFINITY, note: 'still pending at end of history' },
    ]);
  });

  it('refuses a second operation on a busy process and double completion', () => {
    const recorder = new HistoryRecorder({ clock: { now: () => 0 } });
    const op = recorder.invoke(0, 'x');
    expect(() => recorder.invoke(0, 'y')).toThrow(RangeError);
    op.ok(undefined);
    expect(() => op.ok(undefined)).toThrow(RangeError);
    expect(() => new HistoryRecorder({} as { clock: { now(): number } })).toThrow(TypeError);
  });
});

describe('historyFromEvents', () => {
  it('pairs events per process across interleaved logs and sorts by time', () => {
    const events: HistoryEvent<string, string>[] = [
      { type: 'ok', process: 'p1', time: 30, value: 'B' },
      { type: 'invoke', process: 'p0', time: 10, value: 'a' },
      { type: 'invoke', process: 'p1', time: 20, value: 'b' },
      { type: 'ok', process: 'p0', time: 25, value: 'A' },
      { type: 'invoke', process: 'p0', time: 40, value: 'c' },
    ];
    const ops = historyFromEvents(events);
    expect(ops.map((op) => [op.id, op.process, op.input, op.status, op.output ?? null, op.invokedAt, op.returnedAt])).toEqual([
      [0, 'p0', 'a', 'ok', 'A', 10, 25],
      [1, 'p1', 'b', 'ok', 'B', 20, 30],
      [2, 'p0', 'c', 'info', null, 40, Number.POSITIVE_INFINITY],
    ]);
  });

  it('rejects inconsistent logs', () => {
    expect(() => historyFromEvents([{ type: 'ok', process: 1, time: 1 }])).toThrow(RangeError);
    expect(() =>
      historyFromEvents([
        { type: 'invoke', process: 1, time: 1 },
        { type: 'invoke', process: 1, time: 2 },
      ]),
    ).toThrow(RangeError);
    expect(() => historyFromEvents([{ type: 'invoke', process: 1, time: Number.NaN }])).toThrow(TypeError);
  });
});
