import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
  splitting: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // The @app packages and drivers stay external (installed next to the app); the generated Prisma client and
  // the migrations' SQL are bundled.
});
