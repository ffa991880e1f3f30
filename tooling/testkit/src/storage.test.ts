import { describe, expect, it } from 'vitest';
import { Random } from './prng.js';
import { SimulatedDisk } from './storage.js';

describe('SimulatedDisk', () => {
  it('unsynced writes are visible but lost on crash; synced ones survive', () => {
    const disk = new SimulatedDisk();
    disk.write('a', 'one');
    disk.sync();
    disk.write('a', 'two');
    disk.append('log', 'x');
    disk.delete('a');
    expect(disk.read('a')).toBeUndefined();
    expect(disk.unsyncedWrites).toBe(3);
    const report = disk.crash('lose-unsynced', new Random(1));
    expect(report).toEqual({ kept: 0, lost: 3, tornKey: undefined });
    expect(disk.read('a')).toBe('one');
    expect(disk.read('log')).toBeUndefined();
    expect(disk.keys()).toEqual(['a']);
  });

  it('sync(key) makes only that key durable (fsync of one file)', () => {
    const disk = new SimulatedDisk();
    disk.write('a', 'A');
    disk.write('b', 'B');
    disk.sync('b');
    disk.crash('lose-unsynced', new Random(1));
    expect(disk.keys()).toEqual(['b']);
  });

  it('keep-prefix keeps an in-order prefix of the unsynced writes', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const disk = new SimulatedDisk();
      for (let i = 0; i < 10; i++) disk.append('log', `${i};`);
      const { kept } = disk.crash('keep-prefix', new Random(seed));
      const expected = Array.from({ length: kept }, (_, i) => `${i};`).join('');
      expect(disk.read('log') ?? '').toBe(expected);
    }
  });

  it('torn crashes may leave a partial last write', () => {
    let torn = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const disk = new SimulatedDisk();
      disk.append('wal', new Uint8Array([1, 1, 1, 1]));
      disk.append('wal', new Uint8Array([2, 2, 2, 2]));
      const report = disk.crash('torn', new Random(seed));
      const data = disk.read('wal');
      const length = data === undefined ? 0 : data.length;
      if (report.tornKey !== undefined) torn++;
      // A torn write leaves a partial record; otherwise only whole records survive.
      expect(length % 4 !== 0).toBe(report.tornKey !== undefined);
      expect(length).toBeLessThanOrEqual(8);
    }
    expect(torn).toBeGreaterThan(10);
  });

  it('copies bytes in and out, and refuses to mix text and bytes', () => {
    const disk = new SimulatedDisk();
    const bytes = new Uint8Array([1, 2, 3]);
    disk.write('k', bytes);
    bytes[0] = 9;
    const read = disk.read('k') as Uint8Array;
    expect([...read]).toEqual([1, 2, 3]);
    read[1] = 9;
    expect([...(disk.read('k') as Uint8Array)]).toEqual([1, 2, 3]);
    expect(() => disk.append('k', 'text')).toThrow(TypeError);
    expect(() => disk.write('k', 42 as unknown as string)).toThrow(TypeError);
  });
});
