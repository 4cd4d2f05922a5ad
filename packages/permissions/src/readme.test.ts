import { fileURLToPath } from 'node:url';
import { runReadmeQuickstart } from '@app/test-harness/readme';
import { describe, expect, it } from 'vitest';

describe('README', () => {
  it('runs the quickstart as written and prints what its comments say', async () => {
    const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));
    const logged = await runReadmeQuickstart({
      readme: new URL('../README.md', import.meta.url),
      // Point the package's own specifiers at the sources; nothing else changes.
      specifiers: {
        '@app/permissions/memory': source('./adapters/memory.ts'),
        '@app/permissions': source('./index.ts'),
      },
    });
    expect(logged).toEqual([
      [true],
      [false],
      ['allowed by allow rule "room:read" of role "member", assigned globally'],
    ]);
  });
});
