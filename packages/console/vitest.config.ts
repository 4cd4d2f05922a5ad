import { defineConfig } from 'vitest/config';

// Tests talk to real Redis and Postgres on a machine shared with other work: generous timeouts, no timing.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
