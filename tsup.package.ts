import { defineConfig, type Options } from 'tsup';

/**
 * The build every @app package uses: ESM and CommonJS with `.d.ts` and `.d.cts`, for Node 20. Code
 * splitting makes every subpath entry share one copy of each module, so an error class or a store created
 * through `@app/x/redis` is the same class that `@app/x` exports.
 *
 * @example
 * ```ts
 * // packages/otp/tsup.config.ts
 * export default packageBuild({ index: 'src/index.ts', redis: 'src/adapters/redis.ts' });
 * ```
 */
export function packageBuild(entry: Record<string, string>, overrides: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    // TypeScript 6 deprecates `baseUrl`, which tsup's declaration build still sets.
    dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
    splitting: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    ...overrides,
  });
}
