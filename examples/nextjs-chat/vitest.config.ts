import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Sized for a loaded machine (see tests/support.ts); nothing asserts on time.
    testTimeout: 180_000,
    hookTimeout: 300_000,
    // expect.poll waits for the app (event handlers, a redirect): 1 s by default, too short on a busy machine.
    expect: { poll: { timeout: 60_000, interval: 100 } },
    // One browser and one server: the tests are steps of one story, in order.
    sequence: { concurrent: false },
    fileParallelism: false,
  },
});
