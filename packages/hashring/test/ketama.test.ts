// HashRing({ hash: 'ketama' }) against vectors produced by the `hashring` npm
// package itself (see fixtures/generate-ketama-vectors.mjs).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HashRing } from '../src/index.js';

interface Vectors {
  generatedBy: string;
  keys: { generated: string; extra: string[] };
  configs: {
    name: string;
    nodes: { id: string; weight: number }[];
    vnodeCount?: number;
    steps?: ({ add: { id: string; weight: number } } | { remove: string })[];
    ids: string[];
    owners: number[];
    replicas: number[][];
  }[];
}

const vectors = JSON.parse(readFileSync(new URL('./fixtures/ketama-vectors.json', import.meta.url), 'utf8')) as Vectors;
const generated = Number(/key:\d+ \.\. key:(\d+)/.exec(vectors.keys.generated)![1]) + 1;
const keys = [...Array.from({ length: generated }, (_, i) => `key:${i}`), ...vectors.keys.extra];

describe(`ketama mode maps keys exactly as ${vectors.generatedBy}`, () => {
  it.each(vectors.configs.map((config) => [config.name, config] as const))('%s', (_name, config) => {
    const ring = new HashRing({ hash: 'ketama', nodes: config.nodes, ...(config.vnodeCount ? { virtualNodes: config.vnodeCount } : {}) });
    for (const step of config.steps ?? []) {
      if ('add' in step) ring.add(step.add);
      else ring.remove(step.remove);
    }
    expect(keys.map((key) => config.ids.indexOf(ring.lookup(key)))).toEqual(config.owners);
    expect(keys.slice(0, config.replicas.length).map((key) => ring.replicas(key, 3).map((id) => config.ids.indexOf(id)))).toEqual(config.replicas);
  });

  it('hashes Uint8Array keys as the same bytes a string key would be', () => {
    const ring = new HashRing({ hash: 'ketama', nodes: ['a:1', 'b:1', 'c:1'] });
    expect(ring.lookup(new TextEncoder().encode('ключ'))).toBe(ring.lookup('ключ'));
    expect(ring.toJSON()).toMatchObject({ hash: 'ketama', virtualNodes: 40, points: 480 });
  });
});
