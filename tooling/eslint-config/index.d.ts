import type { Linter } from 'eslint';
export declare function bulwarkEslintConfig(
  tsconfigRootDir: string,
  options?: { extraIgnores?: string[] },
): Linter.Config[];
