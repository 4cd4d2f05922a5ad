// Runs a package README's quickstart as written, so the docs can't rot: one helper for every readme.test.ts.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** What {@link runReadmeQuickstart} runs, and how. */
export interface ReadmeQuickstartOptions {
  /** The README, e.g. `new URL('../README.md', import.meta.url)`. */
  readme: URL;
  /** The code block run is the first ```` ```ts ```` block after this text. @default '## Quickstart' */
  after?: string;
  /**
   * Import specifiers to point elsewhere, e.g. the package's own name at its sources:
   * `{ '@app/console': join(here, 'index.ts') }`. Nothing else in the block changes. @default {}
   */
  specifiers?: Record<string, string>;
  /**
   * Where the block is written. Under node_modules some transforms (e.g. a decorator-metadata plugin) do
   * not run; a package that needs them passes a folder outside it. @default `node_modules/.readme-test`
   * beside the README, so the block's other imports resolve as in the package
   */
  dir?: string;
}

/**
 * Writes a README's quickstart block to `node_modules/.readme-test/` beside the README (so its other
 * imports resolve as they would in the package), imports it, and returns what it passed to `console.log`,
 * one array of arguments per call. The file is removed afterwards, pass or fail; console.log is restored.
 *
 * @example
 * ```ts
 * const logged = await runReadmeQuickstart({
 *   readme: new URL('../README.md', import.meta.url),
 *   specifiers: { '@app/console': fileURLToPath(new URL('./index.ts', import.meta.url)) },
 * });
 * expect(logged).toEqual([[200, 'new-checkout', 25], [403]]);
 * ```
 */
export async function runReadmeQuickstart(options: ReadmeQuickstartOptions): Promise<unknown[][]> {
  const path = fileURLToPath(options.readme);
  const text = readFileSync(path, 'utf8');
  const after = options.after ?? '## Quickstart';
  const at = text.indexOf(after);
  if (at < 0) throw new Error(`${path} has no "${after}"`);
  const code = /```ts\n([\s\S]*?)```/.exec(text.slice(at))?.[1];
  if (code === undefined) throw new Error(`${path} has no \`\`\`ts block after "${after}"`);
  let source = code;
  for (const [specifier, target] of Object.entries(options.specifiers ?? {}))
    source = source.replaceAll(`'${specifier}'`, `'${target}'`);
  const dir = options.dir ?? join(dirname(path), 'node_modules', '.readme-test');
  const file = join(dir, `quickstart-${process.pid}-${Date.now()}.ts`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, source);
  const logged: unknown[][] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void logged.push(args);
  try {
    await import(/* @vite-ignore */ pathToFileURL(file).href);
    return logged;
  } finally {
    console.log = log;
    rmSync(file, { force: true });
  }
}
