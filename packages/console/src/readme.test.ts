import { fileURLToPath } from 'node:url';
import { runReadmeQuickstart } from '@app/test-harness/readme';
import { describe, expect, it } from 'vitest';

describe('README', () => {
  it('runs the quickstart as written and prints what its comments say', async () => {
    const logged = await runReadmeQuickstart({
      readme: new URL('../README.md', import.meta.url),
      // Point the package's own specifier at the sources; nothing else changes.
      specifiers: { '@app/console': fileURLToPath(new URL('./index.ts', import.meta.url)) },
    });
    expect(logged).toEqual([[200, 'new-checkout', 25], [403]]);
  });
});
