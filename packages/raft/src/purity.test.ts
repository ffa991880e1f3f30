import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The core is sans-I/O and deterministic: no clock, timers, randomness or I/O in src/.
const FORBIDDEN: { pattern: RegExp; what: string }[] = [
  { pattern: /\bDate\b/, what: 'Date' },
  { pattern: /\bsetTimeout\b/, what: 'setTimeout' },
  { pattern: /\bsetInterval\b/, what: 'setInterval' },
  { pattern: /\bsetImmediate\b/, what: 'setImmediate' },
  { pattern: /\bqueueMicrotask\b/, what: 'queueMicrotask' },
  { pattern: /\bMath\.random\b/, what: 'Math.random' },
  { pattern: /\bperformance\b/, what: 'performance' },
  { pattern: /\bprocess\.hrtime\b/, what: 'process.hrtime' },
  { pattern: /\bcrypto\b/, what: 'crypto' },
  { pattern: /\bfetch\s*\(/, what: 'fetch' },
  { pattern: /from\s+['"](node:)?(fs|fs\/promises|net|dgram|http|https|child_process|worker_threads|timers|timers\/promises|perf_hooks|crypto|os)['"]/, what: 'an I/O or clock module import' },
  { pattern: /import\s*\(/, what: 'a dynamic import' },
];

const dir = fileURLToPath(new URL('./', import.meta.url));
const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

describe('the core is pure', () => {
  it('scans every source file', () => {
    expect(sources).toContain('raft.ts');
    expect(sources).toContain('raw-node.ts');
  });

  for (const file of sources) {
    it(`${file} uses no clock, timer, randomness or I/O`, () => {
      const code = stripComments(readFileSync(dir + file, 'utf8'));
      const found = FORBIDDEN.filter((f) => f.pattern.test(code)).map((f) => f.what);
      expect(found).toEqual([]);
    });
  }

  it('the scan detects a forbidden use', () => {
    const code = stripComments("import { readFileSync } from 'node:fs';\nconst t = Date.now(); // Math.random in a comment is fine");
    const found = FORBIDDEN.filter((f) => f.pattern.test(code)).map((f) => f.what);
    expect(found).toEqual(['Date', 'an I/O or clock module import']);
  });
});
