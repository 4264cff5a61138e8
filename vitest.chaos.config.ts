import { defineConfig } from 'vitest/config';

/** `npm run test:chaos`: the long scenarios (kills, Redis faults, partitions, floods, soak), one file at a time. */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.test.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    setupFiles: ['test/support/afterEachFile.ts'],
    testTimeout: 15 * 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Each scenario loads the 2 cores on its own; run them one after another so timings mean something.
    maxWorkers: 1,
    fileParallelism: false,
  },
});
