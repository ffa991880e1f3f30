// A simulated run must never read real time or real randomness: everything has to come
// from the seed. This scans the simulator core (and what it imports) for the usual leaks.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = dirname(fileURLToPath(import.meta.url));
const FORBIDDEN = [
  /\bDate\b/,
  /\bsetTimeout\b/,
  /\bsetInterval\b/,
  /\bsetImmediate\b/,
  /\bqueueMicrotask\b/,
  /\bMath\.random\b/,
  /\bperformance\b/,
  /\bprocess\.hrtime\b/,
  /\bcrypto\.(?:random|getRandom)/,
  /\brandomBytes\b|\brandomUUID\b|\brandomInt\b/,
];

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Relative imports of a module, resolved to files under src. */
function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)].map((m) => join(dirname(file), `${m[1]!}.ts`));
}

function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    stack.push(...importsOf(file));
  }
  return seen;
}

describe('no real time or randomness in the simulator core', () => {
  const core = new Set([
    ...closure(join(srcDir, 'simulation.ts')),
    ...readdirSync(join(srcDir, 'examples'))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .flatMap((f) => [...closure(join(srcDir, 'examples', f))]),
  ]);

  it('covers the simulator modules', () => {
    const names = [...core].map((f) => relative(srcDir, f)).sort();
    for (const expected of ['simulation.ts', 'prng.ts', 'network.ts', 'storage.ts', 'nemesis.ts', 'event-queue.ts', 'history.ts', 'examples/replicated-register.ts']) {
      expect(names).toContain(expected);
    }
    expect(names).not.toContain('real-clock.ts');
  });

  it.each([...core].map((f) => [relative(srcDir, f), f]))('%s uses no Date, timers, Math.random or performance', (_name, file) => {
    const code = stripComments(readFileSync(file, 'utf8'));
    for (const pattern of FORBIDDEN) expect(code, `${String(pattern)} in ${file}`).not.toMatch(pattern);
  });

  it('the scan would catch a leak', () => {
    expect(stripComments('const t = Date.now(); // fine')).toMatch(FORBIDDEN[0]!);
    expect(stripComments('// Math.random() in a comment')).not.toMatch(FORBIDDEN[5]!);
  });
});
