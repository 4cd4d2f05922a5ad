import { tmpdir } from 'node:os';
import { runReadmeQuickstart } from '@app/test-harness/readme';
import { expect, it } from 'vitest';

it('runs the README quickstart as written', async () => {
  // '@app/di' resolves to the sources through vitest.config.ts's alias; the block is written outside
  // node_modules, where the swc plugin (decorator metadata) transforms it.
  const logged = await runReadmeQuickstart({
    readme: new URL('../README.md', import.meta.url),
    after: '<!-- quickstart -->',
    dir: tmpdir(),
  });
  const lines = logged.map((args) =>
    args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '),
  );
  expect(lines).toEqual([
    'event email.sent {"provider":"ses","to":"ada@example.com","subject":"Welcome"}',
    'closed ses',
    'sendgrid',
    'closed sendgrid',
  ]);
});
