#!/usr/bin/env node
// Creates packages/<name> from the Bulwark package template:
//   node tooling/scripts/new-package.mjs <name> "<one-line description>" [--servers redis,etcd]
// It never overwrites an existing file.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const [name, description, ...rest] = process.argv.slice(2);
if (!name || !/^[a-z][a-z0-9-]*$/.test(name) || !description) {
  console.error('usage: new-package.mjs <kebab-name> "<description>" [--servers redis,etcd]');
  process.exit(2);
}
const serversFlag = rest.indexOf('--servers');
const servers = serversFlag >= 0 ? (rest[serversFlag + 1] ?? '').split(',').filter(Boolean) : [];
const dir = join(root, 'packages', name);

const files = {
  'package.json': JSON.stringify(
    {
      name: `@bulwark/${name}`,
      version: '0.0.0',
      description,
      license: 'MIT',
      type: 'module',
      sideEffects: false,
      files: ['dist'],
      main: './dist/index.js',
      types: './dist/index.d.ts',
      exports: {
        '.': { types: './dist/index.d.ts', default: './dist/index.js' },
        './package.json': './package.json',
      },
      engines: { node: '>=20.19' },
      keywords: ['bulwark', 'resilience', name],
      repository: { type: 'git', url: 'git+https://github.com/bulwark-js/bulwark.git', directory: `packages/${name}` },
      publishConfig: { access: 'public' },
      scripts: {
        build: 'rm -rf dist && tsc -p tsconfig.build.json',
        test: 'vitest run',
        typecheck: 'tsc --noEmit',
        lint: 'eslint .',
      },
      devDependencies: {
        '@bulwark/eslint-config': 'workspace:*',
        '@bulwark/tsconfig': 'workspace:*',
        '@bulwark/vitest-config': 'workspace:*',
        ...(servers.length > 0 ? { '@bulwark/servers': 'workspace:*' } : {}),
      },
    },
    null,
    2,
  ) + '\n',
  'tsconfig.json': JSON.stringify({ extends: '@bulwark/tsconfig/base.json', include: ['src', 'test', 'vitest.config.ts'] }, null, 2) + '\n',
  'tsconfig.build.json': JSON.stringify({ extends: '@bulwark/tsconfig/build.json' }, null, 2) + '\n',
  'eslint.config.js': "import { bulwarkEslintConfig } from '@bulwark/eslint-config';\n\nexport default bulwarkEslintConfig(import.meta.dirname);\n",
  'vitest.config.ts':
    "import { bulwarkVitestConfig } from '@bulwark/vitest-config';\n\nexport default bulwarkVitestConfig(" +
    (servers.length > 0
      ? `{ servers: { ${servers.map((s) => (s === 'redis' ? 'redis: 5' : 'etcd: true')).join(', ')} } }`
      : '') +
    ');\n',
};

mkdirSync(join(dir, 'src'), { recursive: true });
files['LICENSE'] = readFileSync(join(root, 'LICENSE'), 'utf8');
for (const [file, content] of Object.entries(files)) {
  const path = join(dir, file);
  if (existsSync(path)) {
    console.log(`kept ${path}`);
    continue;
  }
  writeFileSync(path, content);
  console.log(`wrote ${path}`);
}
