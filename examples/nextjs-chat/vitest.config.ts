import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One browser and one server: the tests are steps of one story, in order.
    sequence: { concurrent: false },
    fileParallelism: false,
  },
});
