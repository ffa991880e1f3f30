import { describe } from 'vitest';
import { simulationSuite } from './support/seeds.js';

describe('simulation: replicated KV on 3 nodes under faults', () => {
  simulationSuite(3, 1000, 'test/simulation-3.test.ts');
});
