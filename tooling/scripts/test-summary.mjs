#!/usr/bin/env node
// Sums the vitest JSON reports of every workspace (written by the shared vitest
// config to <workspace>/test-results/vitest.json) and prints the plain line
// `N passed, N failed` (and `, N skipped` when some were). A workspace with a
// test script but no report counts as one failure: its run never got going.
//   node tooling/scripts/test-summary.mjs [--clean]
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const workspaces = ['packages', 'apps', 'tooling'].flatMap((group) => {
  const dir = join(root, group);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'package.json')))
    .map((d) => join(dir, d.name));
});

if (process.argv.includes('--clean')) {
  for (const ws of workspaces) rmSync(join(ws, 'test-results'), { recursive: true, force: true });
  process.exit(0);
}

let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];
for (const ws of workspaces) {
  const pkg = JSON.parse(readFileSync(join(ws, 'package.json'), 'utf8'));
  if (!pkg.scripts?.test) continue;
  const report = join(ws, 'test-results', 'vitest.json');
  const name = pkg.name ?? ws;
  if (!existsSync(report)) {
    failed += 1;
    problems.push(`${name}: no test report (the test run did not complete)`);
    continue;
  }
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A suite that failed to load (syntax error, failing hook) has no failed test but is not a success.
  const brokenSuites = (r.testResults ?? []).filter((s) => s.status === 'failed' && (s.assertionResults ?? []).every((a) => a.status !== 'failed'));
  if (brokenSuites.length > 0) {
    failed += brokenSuites.length;
    problems.push(`${name}: ${brokenSuites.length} test file(s) failed to run`);
  }
  console.log(`${name.padEnd(32)} ${String(r.numPassedTests ?? 0).padStart(5)} passed ${String(r.numFailedTests ?? 0).padStart(4)} failed`);
}
for (const p of problems) console.log(`! ${p}`);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
