#!/usr/bin/env node
// `pnpm release:dry`: packs every public workspace package exactly as
// `changeset publish` would and checks the tarball with publint and
// @arethetypeswrong/cli (ESM-only profile), without publishing anything.
// Run after `turbo run build` (the root script does both).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const packagesDir = join(root, 'packages');
const publicPackages = readdirSync(packagesDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(packagesDir, d.name, 'package.json')))
  .map((d) => join(packagesDir, d.name))
  .filter((dir) => !JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private);

const out = mkdtempSync(join(tmpdir(), 'bulwark-release-dry-'));
let failures = 0;
try {
  for (const dir of publicPackages) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    process.stdout.write(`\n── ${pkg.name}@${pkg.version}\n`);
    try {
      const packed = execFileSync('pnpm', ['pack', '--pack-destination', out], { cwd: dir, encoding: 'utf8' });
      const tarball = packed.trim().split('\n').filter((l) => l.endsWith('.tgz')).pop();
      if (!tarball) throw new Error(`pnpm pack printed no tarball:\n${packed}`);
      const path = tarball.startsWith('/') ? tarball : join(out, tarball);
      const files = execFileSync('tar', ['-tzf', path], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const required of ['package/dist/index.js', 'package/dist/index.d.ts', 'package/README.md', 'package/LICENSE', 'package/package.json']) {
        if (!files.includes(required)) throw new Error(`${required} is missing from the tarball`);
      }
      const leaked = files.filter((f) => /\.test\.(js|d\.ts)$/.test(f) || f.startsWith('package/src/'));
      if (leaked.length > 0) throw new Error(`tests or sources leaked into the tarball: ${leaked.join(', ')}`);
      console.log(`  tarball: ${files.length} files`);
      execFileSync(bin('publint'), ['run', path, '--strict'], { stdio: 'inherit' });
      execFileSync(bin('attw'), [path, '--profile', 'esm-only', '--format', 'table-flipped'], { stdio: 'inherit' });
    } catch (error) {
      failures += 1;
      console.error(`  ✗ ${pkg.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
console.log(`\nrelease:dry — ${publicPackages.length - failures} of ${publicPackages.length} packages clean`);
process.exit(failures > 0 ? 1 : 0);
