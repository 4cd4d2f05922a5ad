import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const doc = readFileSync(new URL('../../../../docs/writing-an-adapter.md', import.meta.url), 'utf8');
const file = (name: string) => readFileSync(new URL(name, import.meta.url), 'utf8');

describe('docs/writing-an-adapter.md: the worked idempotency store and its proof', () => {
  it('prints exactly the store and the test that run here (pg-idempotency.ts, pg-idempotency.test.ts)', () => {
    expect(doc).toContain(`\`\`\`ts\n${file('./pg-idempotency.ts')}\`\`\``);
    expect(doc).toContain(`\`\`\`ts\n${file('./pg-idempotency.test.ts')}\`\`\``);
  });

  it('proves the store in under 10 lines of test', () => {
    expect(file('./pg-idempotency.test.ts').trim().split('\n').filter(Boolean).length).toBeLessThan(10);
  });
});
