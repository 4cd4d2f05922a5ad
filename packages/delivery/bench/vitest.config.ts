import { defineConfig } from 'vitest/config';

// The benchmark runs under vitest so that it gets the test harness's databases (its own database or
// schema per dialect, dropped afterwards), then writes bench/results.json.
export default defineConfig({
  test: {
    include: ['bench/**/*.bench.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
