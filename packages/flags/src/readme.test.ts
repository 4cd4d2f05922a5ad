// Runs the README's code blocks as written (imports swapped for this package's sources), so the docs can't rot.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as flagsApi from './index.js';
import * as testingApi from './testing.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...values: unknown[]) => Promise<void>;

async function run(code: string, log: (...args: unknown[]) => void) {
  const body = code.replace(/^import [\s\S]*?;\n/gm, '');
  const scope = { ...flagsApi, ...testingApi, console: { log } };
  await new AsyncFunction(...Object.keys(scope), body)(...Object.values(scope));
}

/** Runs the README block containing `marker` and returns what it logged, one array of arguments per call. */
async function logsOf(marker: string): Promise<unknown[][]> {
  const example = blocks.find((b) => b.includes(marker));
  expect(example).toBeDefined();
  const logged: unknown[][] = [];
  await run(example as string, (...args) => logged.push(args));
  return logged;
}

describe('README', () => {
  it('the quickstart runs as written', async () => {
    const quickstart = blocks.find((b) => b.includes('createFlags({ source: config })'))!;
    expect(quickstart).toBeDefined();
    await run(quickstart, () => {});
  });

  it('the validation example prints what it says', async () => {
    expect(await logsOf('err.issues')).toEqual([
      [
        'INVALID_DEFINITION',
        ['variants[0].weight: must be a non-negative integer', 'rollout: must be an integer from 0 to 100'],
      ],
    ]);
  });

  it('the stickiness example refuses an undeclared field and accepts a declared one', async () => {
    const example = blocks.find((b) => b.includes("contextFields: ['tenantId']"))!;
    expect(example).toBeDefined();
    await run(example, () => {});
  });

  it('the Unleash import example prints its report', async () => {
    expect(await logsOf('importUnleashFeatures(exported)')).toEqual([
      [['new-checkout strategies[1]: dropped']],
    ]);
  });
});
