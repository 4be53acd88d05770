import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/harness/global-setup.ts'],
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The tests wait on chains (a block a second) far more than they compute: two files at a time even on
    // two cores (vitest's default there is one), which keeps the suite within CI's 40 minutes.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
