import { defineConfig } from 'vitest/config';

// Real Redis/Postgres and 1,000-way races run on busy machines too: give them room (no pass/fail timing).
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
