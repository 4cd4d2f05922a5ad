import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// esbuild (vitest's default transform) does not emit decorator metadata; swc does, so tests can use
// `@injectable()` classes whose constructor parameter types are read at runtime.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  // The README quickstart imports '@app/di'; run it against the source.
  resolve: { alias: { '@app/di': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    include: ['src/**/*.test.ts'],
    // The machine running the suite is shared and busy: no test may depend on vitest's 5 s default.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
