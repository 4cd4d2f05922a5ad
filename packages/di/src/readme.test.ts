import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const block = /<!-- quickstart -->\s*```ts\n([\s\S]*?)```/.exec(readme)?.[1];
const dir = mkdtempSync(join(tmpdir(), 'app-di-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('runs the README quickstart as written', async () => {
  expect(block).toBeDefined();
  const file = join(dir, 'quickstart.ts');
  writeFileSync(file, block!);
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  let calls: unknown[][];
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    calls = [...log.mock.calls];
    log.mockRestore();
  }
  const lines = calls.map((args) =>
    args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '),
  );
  expect(lines).toEqual([
    'event email.sent {"provider":"ses","to":"ada@example.com","subject":"Welcome"}',
    'closed ses',
    'sendgrid',
    'closed sendgrid',
  ]);
});
