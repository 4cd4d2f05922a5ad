import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserTestsRunnable,
  launchChromium,
  type NextServer,
  newPage,
  STARTUP_TIMEOUT_MS,
  shotsDir,
  startNext,
} from './support.js';

// The operations console at /console in the demo: the signed-in user is its operator.
const runnable = browserTestsRunnable('console browser test');

describe.skipIf(!runnable)('nextjs-chat /console in Chromium', () => {
  let server: NextServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(shotsDir, { recursive: true });
    server = await startNext({ INSTANCE_NAME: 'console-test' });
    browser = await launchChromium();
    page = await newPage(browser);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** Signs in through the auth routes with the page's cookie jar; the code is read from the dev outbox. */
  async function signInByApi(phone: string) {
    const { request } = page.context();
    const sent = await request.post(`${server.base}/api/auth/code`, { form: { phone }, maxRedirects: 0 });
    const challengeId =
      new URL(sent.headers().location ?? '', server.base).searchParams.get('challenge') ?? '';
    const outbox = await (await request.get(`${server.base}/dev/outbox`)).text();
    const code = new RegExp(`${phone.replace('+', '\\+')}</td><td[^>]*>[^<]*?(\\d{6})`).exec(outbox)?.[1];
    expect(code, 'no code in the dev outbox').toBeDefined();
    await request.post(`${server.base}/api/auth/verify`, {
      form: { phone, code: code as string, challengeId },
      maxRedirects: 0,
    });
  }

  it('refuses anonymous visitors and serves the console to the signed-in user', async () => {
    const anonymous = await page.goto(`${server.base}/console`);
    expect(anonymous?.status()).toBe(401);
    await signInByApi('+15555550777');
    await page.goto(`${server.base}/console/#flags`);
    await page.locator('main[data-section="flags"] table').first().waitFor();
    expect(await page.locator('tr[data-flag]').count()).toBeGreaterThan(0);
    await page.goto(`${server.base}/console/#otp`);
    await page.locator('tr[data-purpose="login"]').waitFor();
    expect(await page.content()).not.toContain('+15555550777');
    await page.goto(`${server.base}/console/#delivery`);
    await page.getByRole('button', { name: 'Use sendgrid' }).click();
    await page.locator('[data-channel="email"] [data-primary]', { hasText: 'sendgrid' }).waitFor();
    await page.screenshot({ path: join(shotsDir, 'console-delivery.png'), fullPage: true });
  });
});
