import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(join(here, '..', 'README.md'), 'utf8');
const tmp = join(here, '..', 'node_modules', '.readme-test');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('README', () => {
  it('runs the quickstart as written and prints what its comments say', async () => {
    const section = readme.slice(readme.indexOf('## Quickstart'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toBeDefined();
    // Point the package's own specifier at the sources; nothing else changes.
    const source = code!.replace("'@app/console'", `'${join(here, 'index.ts')}'`);
    mkdirSync(tmp, { recursive: true });
    const file = join(tmp, 'quickstart.ts');
    writeFileSync(file, source);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import(pathToFileURL(file).href);
      expect(log.mock.calls).toEqual([[200, 'new-checkout', 25], [403]]);
    } finally {
      log.mockRestore();
    }
  });
});
