// Flat ESLint config shared by every workspace. A package's eslint.config.js:
//
//   import { bulwarkEslintConfig } from '@bulwark/eslint-config';
//   export default bulwarkEslintConfig(import.meta.dirname);
//
// (config files are the one place a default export is required by the tool.)
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vitest from '@vitest/eslint-plugin';

/**
 * @param {string} tsconfigRootDir the package directory
 * @param {{ extraIgnores?: string[] }} [options]
 */
export function bulwarkEslintConfig(tsconfigRootDir, options = {}) {
  return tseslint.config(
    {
      ignores: [
        'dist/**',
        'node_modules/**',
        'coverage/**',
        'test-results/**',
        '**/*.js',
        '**/*.mjs',
        '**/*.cjs',
        '**/*.d.ts',
        '**/vitest.config.ts',
        ...(options.extraIgnores ?? []),
      ],
    },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
      languageOptions: {
        parserOptions: {
          projectService: true,
          tsconfigRootDir,
        },
      },
      rules: {
        '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
        '@typescript-eslint/consistent-type-exports': 'error',
        '@typescript-eslint/no-import-type-side-effects': 'error',
        '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
        '@typescript-eslint/no-floating-promises': 'error',
        '@typescript-eslint/no-misused-promises': 'error',
        '@typescript-eslint/only-throw-error': 'error',
        'no-restricted-syntax': [
          'error',
          { selector: 'ExportDefaultDeclaration', message: 'Use named exports (no default exports).' },
          { selector: 'TSEnumDeclaration', message: 'Use an `as const` union instead of an enum.' },
        ],
      },
    },
    {
      files: ['**/*.test.ts', 'test/**/*.ts'],
      plugins: { vitest },
      rules: {
        ...vitest.configs.recommended.rules,
        '@typescript-eslint/no-non-null-assertion': 'off',
        '@typescript-eslint/unbound-method': 'off',
      },
    },
  );
}
