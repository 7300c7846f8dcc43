import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start PostgreSQL, replicas and load on a 2-core machine: run files one at a time
    // so their timings are not distorted by each other.
    fileParallelism: false,
    reporters: ['default', './test/reporters/closing-line.ts'],
    setupFiles: ['./test/setup.ts'],
  },
});
