import { bulwarkVitestConfig } from '@bulwark/vitest-config';

export default bulwarkVitestConfig({ servers: { redis: 5 } });
