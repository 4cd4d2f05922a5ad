import { defineConfig } from 'vitest/config';

// Races of 1,000 calls on real Redis and Postgres run on busy shared machines: size timeouts for that, never
// for a quiet laptop. No test depends on how long anything takes.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
