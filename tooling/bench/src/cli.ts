// `pnpm bench [suite ...]`: runs every suite in src/suites (or the named ones)
// and writes bench/results/<suite>.json at the repository root.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatReport, formatTask, runTask, type BenchSuite, type SuiteResult } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const suitesDir = join(here, 'suites');
const resultsDir = resolve(here, '../../../bench/results');

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const available = readdirSync(suitesDir)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => basename(f, '.bench.ts'))
    .sort();
  const unknown = wanted.filter((w) => !available.includes(w));
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const selected = wanted.length > 0 ? wanted : available;
  mkdirSync(resultsDir, { recursive: true });
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  };
  console.log(`bulwark bench · ${new Date().toISOString().slice(0, 10)} · ${machine.cpus}× ${machine.cpuModel} · node ${machine.node}`);
  for (const name of selected) {
    const module = (await import(pathToFileURL(join(suitesDir, `${name}.bench.ts`)).href)) as { suite?: BenchSuite };
    const suite = module.suite;
    if (!suite) throw new TypeError(`src/suites/${name}.bench.ts must export \`suite\` (defineSuite(...))`);
    console.log(`\n${suite.name}`);
    await suite.setup?.();
    const result: SuiteResult = { suite: suite.name, date: new Date().toISOString(), machine, tasks: [], reports: [] };
    try {
      for (const task of suite.tasks) {
        const taskResult = await runTask(task);
        result.tasks.push(taskResult);
        console.log(formatTask(taskResult));
      }
      for (const report of suite.reports ?? []) {
        const figures = await report.collect();
        result.reports.push({ name: report.name, figures });
        console.log(formatReport(report.name, figures));
      }
    } finally {
      await suite.teardown?.();
    }
    writeFileSync(join(resultsDir, `${suite.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  }
  console.log(`\nresults written to ${resultsDir}`);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
