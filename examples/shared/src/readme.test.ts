import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

// The root README's "How they fit" block must run as written: extract it and run it with tsx from this
// package, which depends on every @app package.
it('runs the root README quickstart as written', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8');
  const block = readme.split('<!-- root-quickstart -->')[1]?.match(/```ts\n([\s\S]*?)```/)?.[1];
  expect(block, 'README.md has no <!-- root-quickstart --> ts block').toBeTruthy();
  const dir = mkdtempSync(join(import.meta.dirname, '..', '.readme-'));
  try {
    const file = join(dir, 'quickstart.ts');
    writeFileSync(file, block as string);
    const tsx = join(import.meta.dirname, '..', '..', '..', 'node_modules', '.bin', 'tsx');
    const out = execFileSync(tsx, [file], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(out.trim().split('\n')).toEqual(['true', 'SPLIT', '1 1']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 90_000);
