import { defineConfig } from 'vitest/config';

// Generous limits: the suite must pass on a shared, busy 2-core machine. Timeouts only bound a hang; no test
// asserts how long anything took (readme.test.ts gives its tsx and tsc runs more).
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
