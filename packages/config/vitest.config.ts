import { defineConfig } from 'vitest/config';

// Real Redis and Postgres on a busy shared machine: generous limits; no test depends on timing.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
