import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserTestsRunnable, launchChromium, type NextServer, shotsDir, startNext } from './support.js';

// The whole demo driven in a real browser: Debian's Chromium through playwright-core, against `next start` on a
// free port with in-memory services. Screenshots land in test-results/ as artifacts.
const runnable = browserTestsRunnable('browser tests');

describe.skipIf(!runnable)('nextjs-chat in Chromium', () => {
  let server: NextServer;
  let browser: Browser;
  let page: Page;
  let base: string;
  let shot = 0;
  const snap = async (name: string) => {
    shot++;
    await page.screenshot({
      path: join(shotsDir, `${String(shot).padStart(2, '0')}-${name}.png`),
      fullPage: true,
    });
  };

  beforeAll(async () => {
    rmSync(shotsDir, { recursive: true, force: true });
    mkdirSync(shotsDir, { recursive: true });
    // In-memory services: the story must not depend on the developer's REDIS_URL/DATABASE_URL.
    server = await startNext({ INSTANCE_NAME: 'browser-test' });
    base = server.base;
    browser = await launchChromium();
    page = await browser.newPage();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('signs in with a one-time code read from the dev outbox', async () => {
    await page.goto(`${base}/`);
    await page.fill('#phone', '+15555550123');
    await snap('sign-in');
    await page.click('text=Send code');
    await page.waitForSelector('#code');
    // The code arrives through the memory SMS provider; read it where a developer would, on the outbox page.
    const outbox = await browser.newPage();
    await outbox.goto(`${base}/dev/outbox`);
    const body = (await outbox.textContent('[data-testid="sms-body"]')) ?? '';
    await outbox.close();
    const code = body.match(/\b(\d{6})\b/)?.[1];
    expect(code, `no code in SMS body: ${body}`).toBeDefined();
    await page.fill('#code', code as string);
    await snap('code-entered');
    await page.click('text=Verify');
    await page.waitForURL(`${base}/rooms`);
    expect(await page.textContent('[data-testid="who"]')).toContain('signed in as +15555550123');
    await snap('signed-in');

    // The guide's handlers ran on @app/events: user.registered is in the log and the welcome email went out.
    await page.goto(`${base}/events`);
    await expect
      .poll(() => page.locator('[data-testid="event-row"]', { hasText: 'user.registered' }).count())
      .toBeGreaterThan(0);
    await page.goto(`${base}/dev/outbox`);
    await expect
      .poll(() => page.locator('[data-testid="email-row"]').allTextContents())
      .toEqual(expect.arrayContaining([expect.stringMatching(/welcome/i)]));
    await snap('welcome-email');
  });

  it('refuses to delete a room without the permission, then deletes it as owner', async () => {
    await page.goto(`${base}/rooms`);
    await page.fill('#room-name', 'general');
    await page.click('text=Create room');
    const row = page.locator('[data-testid="room-general"]');
    await row.waitFor();
    await row.locator('text=Delete').click();
    const result = row.locator('[data-testid^="delete-result-"]');
    await expect.poll(() => result.textContent()).toContain('403');
    await snap('delete-denied');

    await row.locator('text=Make me owner').click();
    await page.waitForURL(`${base}/rooms`);
    await page.locator('[data-testid="room-general"]').locator('text=Delete').click();
    await expect.poll(() => page.locator('[data-testid="room-general"]').count()).toBe(0);
    await snap('deleted-as-owner');
  });

  it('flips a flag and the chat UI follows', async () => {
    await page.goto(`${base}/chat`);
    expect(await page.getAttribute('[data-testid="chat-ui"]', 'data-ui')).toBe('classic');
    await snap('chat-classic');
    await page.goto(`${base}/flags`);
    await page.click('[data-testid="toggle-new-chat-ui"]');
    await page.waitForURL(`${base}/flags`);
    expect(await page.textContent('[data-testid="flag-new-chat-ui-enabled"]')).toBe('on');
    await page.goto(`${base}/chat`);
    expect(await page.getAttribute('[data-testid="chat-ui"]', 'data-ui')).toBe('new');
    await snap('chat-new-ui');
  });

  it('sends a chat message, which reaches the event log as message.sent and analytics', async () => {
    await page.goto(`${base}/rooms`);
    await page.fill('#room-name', 'random');
    await page.click('text=Create room');
    await page.goto(`${base}/chat`);
    await page.fill('input[name="text"]', 'hello from the browser');
    await page.click('text=Send');
    await expect
      .poll(() => page.locator('[data-testid="messages"]').textContent())
      .toContain('hello from the browser');
    await snap('message-sent');
    await page.goto(`${base}/events`);
    await expect
      .poll(() => page.locator('[data-testid="event-row"]', { hasText: 'message.sent' }).count())
      .toBeGreaterThan(0);
    await expect
      .poll(() => page.locator('[data-testid="event-row"]', { hasText: 'analytics.tracked' }).count())
      .toBeGreaterThan(0);
  });

  it('switches the email provider at runtime: the next email goes through the other one', async () => {
    await page.goto(`${base}/admin/email`);
    expect(await page.textContent('[data-testid="current-provider"]')).toBe('ses');
    await page.click('text=Send test email');
    await page.waitForURL(`${base}/admin/email`);
    expect(await page.locator('[data-testid="email-provider"]').first().textContent()).toBe('ses');

    await page.click('text=Switch to sendgrid');
    await page.waitForURL(`${base}/admin/email`);
    expect(await page.textContent('[data-testid="current-provider"]')).toBe('sendgrid');
    await page.click('text=Send test email');
    await page.waitForURL(`${base}/admin/email`);
    expect(await page.locator('[data-testid="email-provider"]').first().textContent()).toBe('sendgrid');
    await snap('email-switched');
  });
});
