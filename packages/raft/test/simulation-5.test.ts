import { describe } from 'vitest';
import { simulationSuite } from './support/seeds.js';

describe('simulation: replicated KV on 5 nodes under faults', () => {
  simulationSuite(5, 1000, 'test/simulation-5.test.ts');
});
