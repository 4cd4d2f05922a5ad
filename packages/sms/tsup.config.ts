import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    memory: 'src/adapters/memory.ts',
    redis: 'src/adapters/redis.ts',
    twilio: 'src/adapters/twilio.ts',
    prisma: 'src/adapters/prisma.ts',
    testing: 'src/testing.ts',
  },
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
  splitting: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
