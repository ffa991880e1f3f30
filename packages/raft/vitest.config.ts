import { bulwarkVitestConfig } from '@bulwark/vitest-config';

export default bulwarkVitestConfig();
