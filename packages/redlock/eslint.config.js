import { bulwarkEslintConfig } from '@bulwark/eslint-config';

export default bulwarkEslintConfig(import.meta.dirname);
