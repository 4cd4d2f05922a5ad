import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The worked example of docs/writing-an-adapter.md reads DATABASE_URL, as it is printed there.
    env: { DATABASE_URL: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test' },
    globalSetup: ['src/docs-example/global-setup.ts'],
  },
});
