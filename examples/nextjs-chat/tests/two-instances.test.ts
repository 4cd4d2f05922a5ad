import { requirePostgres, requireRedis } from '@app/test-harness';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserTestsRunnable,
  launchChromium,
  type NextServer,
  newPage,
  STARTUP_TIMEOUT_MS,
  startNext,
} from './support.js';

// Two instances of the app on one Redis and one Postgres: a flag flipped in the browser on instance A shows on
// instance B, and an email-provider switch on A is what B uses. Each test run gets its own key prefix and schema.
const runnable = browserTestsRunnable('two-instance browser tests');
const redis = await requireRedis();
const db = await requirePostgres();

describe.skipIf(!runnable || !redis.available || !db.available)('two instances on Redis + Postgres', () => {
  let a: NextServer;
  let b: NextServer;
  let browser: Browser;

  beforeAll(async () => {
    const shared = {
      REDIS_URL: redis.url,
      DATABASE_URL: db.url,
      REDIS_KEY_PREFIX: redis.prefix,
      DATABASE_SCHEMA: db.schema,
      OTP_SECRET: 'two-instance-test-secret-0123456789abcdef',
    };
    // startNext drops REDIS_URL/DATABASE_URL from the inherited environment; these are set on purpose.
    [a, b] = await Promise.all([
      startNext({ ...shared, INSTANCE_NAME: 'A' }),
      startNext({ ...shared, INSTANCE_NAME: 'B' }),
    ]);
    browser = await launchChromium();
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('a flag flipped on A shows on B', async () => {
    const pageA = await newPage(browser);
    const pageB = await newPage(browser);
    await pageB.goto(`${b.base}/flags`);
    const before = await pageB.textContent('[data-testid="flag-new-chat-ui-enabled"]');

    await pageA.goto(`${a.base}/flags`);
    await pageA.click('[data-testid="toggle-new-chat-ui"]');
    const flipped = before === 'on' ? 'off' : 'on';
    // The form post redirects back to /flags: poll for the new render rather than wait for a URL it already has.
    await expect.poll(() => pageA.textContent('[data-testid="flag-new-chat-ui-enabled"]')).toBe(flipped);

    // B learns of the change through Redis pub/sub; reload until it does (no timing in the assertion).
    await expect
      .poll(
        async () => {
          await pageB.reload();
          return pageB.textContent('[data-testid="flag-new-chat-ui-enabled"]');
        },
        { timeout: 60_000, interval: 250 },
      )
      .toBe(flipped);
    expect(await pageB.textContent('[data-testid="who"]')).toContain('instance B');
  });

  it('an email provider switched on A is the provider B reads', async () => {
    const pageA = await newPage(browser);
    const pageB = await newPage(browser);
    await pageA.goto(`${a.base}/admin/email`);
    await pageA.click('text=Switch to sendgrid');
    await expect.poll(() => pageA.textContent('[data-testid="current-provider"]')).toBe('sendgrid');
    await expect
      .poll(
        async () => {
          await pageB.goto(`${b.base}/admin/email`);
          return pageB.textContent('[data-testid="current-provider"]');
        },
        { timeout: 60_000, interval: 250 },
      )
      .toBe('sendgrid');
  });
});
