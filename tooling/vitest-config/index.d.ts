import type { UserConfig } from 'vitest/config';

export interface BulwarkVitestOptions {
  /** Real servers the tests need; started once per run by @bulwark/servers. */
  servers?: {
    /** Number of independent Redis masters (0 = none). */
    redis?: number;
    /** Start a 3-member etcd cluster. */
    etcd?: boolean;
  };
  include?: string[];
  testTimeout?: number;
  hookTimeout?: number;
  maxWorkers?: number;
  fileParallelism?: boolean;
}

export declare function bulwarkVitestConfig(options?: BulwarkVitestOptions): UserConfig;
