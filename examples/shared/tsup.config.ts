import { defineConfig } from 'tsup';

export default defineConfig({
  // `testing` holds the API scenario the framework examples' tests share; only tests import it.
  entry: { index: 'src/index.ts', testing: 'src/api-scenario.ts' },
  format: ['esm'],
  dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
  splitting: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // The @app packages, drivers and vitest stay external (installed next to the app); the generated Prisma
  // client and the migrations' SQL are bundled.
  external: ['vitest'],
});
