import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The quickstarts must run as written: the root README's "How they fit" block and the first `ts` block of each
// package README's "## Quickstart" section are extracted and run with tsx from this package, which depends on
// every @app package.
const repo = join(import.meta.dirname, '..', '..', '..');
const tsx = join(repo, 'node_modules', '.bin', 'tsx');
const scratch = mkdtempSync(join(import.meta.dirname, '..', '.readme-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runBlock(name: string, block: string): string {
  const file = join(scratch, `${name}.ts`);
  writeFileSync(file, block);
  return execFileSync(tsx, [file], { cwd: scratch, encoding: 'utf8', timeout: 180_000 });
}

function quickstartOf(readme: string): string | undefined {
  const section = readme.match(/^## Quickstart[^\n]*\n([\s\S]*?)(?=^## |(?![\s\S]))/m)?.[1];
  return section?.match(/```ts\n([\s\S]*?)```/)?.[1];
}

it('runs the root README quickstart as written', () => {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const block = readme.split('<!-- root-quickstart -->')[1]?.match(/```ts\n([\s\S]*?)```/)?.[1];
  expect(block, 'README.md has no <!-- root-quickstart --> ts block').toBeTruthy();
  expect(
    runBlock('root', block as string)
      .trim()
      .split('\n'),
  ).toEqual(['true', 'SPLIT', '1 1']);
}, 240_000);

const packages = readdirSync(join(repo, 'packages')).filter((dir) => {
  const manifest = join(repo, 'packages', dir, 'package.json');
  return existsSync(manifest) && !JSON.parse(readFileSync(manifest, 'utf8')).private;
});

describe('package README quickstarts run as written', () => {
  it.each(packages)(
    '@app/%s',
    (dir) => {
      const block = quickstartOf(readFileSync(join(repo, 'packages', dir, 'README.md'), 'utf8'));
      expect(block, `packages/${dir}/README.md has no "## Quickstart" section with a ts block`).toBeTruthy();
      // execFileSync throws when the snippet exits non-zero (a thrown error, a failed import, a missing export).
      expect(() => runBlock(dir, block as string)).not.toThrow();
    },
    240_000,
  );
});

// Every run below is bounded generously (a tsx or tsc start on a busy 2-core machine can take a minute): the
// bounds stop a hang, no assertion depends on time.
// tsx strips types without checking them: type-check every block written above, as a user's editor would.
it('the quickstarts type-check against the built packages', () => {
  const files = readdirSync(scratch).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBe(packages.length + 1);
  writeFileSync(
    join(scratch, 'tsconfig.json'),
    JSON.stringify({ extends: join(repo, 'tsconfig.base.json'), compilerOptions: { noEmit: true }, files }),
  );
  const tsc = join(repo, 'node_modules', '.bin', 'tsc');
  let output = '';
  try {
    execFileSync(tsc, ['-p', scratch], { cwd: scratch, encoding: 'utf8' });
  } catch (error) {
    output = String((error as { stdout?: string }).stdout ?? error);
  }
  expect(output).toBe('');
}, 300_000);
