import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserTestsRunnable,
  launchChromium,
  type NextServer,
  newContext,
  newPage,
  STARTUP_TIMEOUT_MS,
  shotsDir,
  startNext,
} from './support.js';

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
    page = await newPage(browser);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /**
   * `read` on a fresh render of `path`, until it passes `expect.poll`'s matcher: event handlers run after the
   * request that caused them, so a server-rendered page may need a reload to show their work.
   */
  const rendered = <T>(path: string, read: () => Promise<T>) =>
    expect.poll(async () => {
      await page.goto(`${base}${path}`);
      return read();
    });

  /** Signs `phone` in on `on` with the code read from the dev outbox, as a developer would. */
  async function signIn(on: Page, phone: string, screenshots = false) {
    await on.goto(`${base}/`);
    await on.fill('#phone', phone);
    if (screenshots) await snap('sign-in');
    await on.click('text=Send code');
    await on.waitForSelector('#code');
    // The code arrives through the memory SMS provider; read it where a developer would, on the outbox page.
    const outbox = await on.context().newPage();
    await outbox.goto(`${base}/dev/outbox`);
    const body =
      (await outbox.locator('[data-testid="sms-row"]', { hasText: phone }).first().textContent()) ?? '';
    await outbox.close();
    const code = body.match(/\b(\d{6})\b/)?.[1];
    expect(code, `no code in SMS row: ${body}`).toBeDefined();
    await on.fill('#code', code as string);
    if (screenshots) await snap('code-entered');
    await on.click('text=Verify');
    await on.waitForURL(`${base}/rooms`);
    expect(await on.textContent('[data-testid="who"]')).toContain(`signed in as ${phone}`);
  }

  it('signs in with a one-time code read from the dev outbox', async () => {
    await signIn(page, '+15555550123', true);
    await snap('signed-in');

    // The guide's handlers ran on @app/events: user.registered is in the log and the welcome email went out.
    await rendered('/events', () =>
      page.locator('[data-testid="event-row"]', { hasText: 'user.registered' }).count(),
    ).toBeGreaterThan(0);
    await rendered('/dev/outbox', () => page.locator('[data-testid="email-row"]').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/welcome/i)]),
    );
    await snap('welcome-email');
  });

  it('deletes a room its creator owns; refuses (403) a room someone else owns until made its owner', async () => {
    await page.goto(`${base}/rooms`);
    await page.fill('#room-name', 'general');
    await page.click('text=Create room');
    const mine = page.locator('[data-testid="room-general"]');
    await mine.waitFor();
    // Creating the room made us its owner: allowed at once, no "Make me owner" needed.
    expect(await page.textContent('[data-testid="decision-general"]')).toContain('allowed');
    expect(await mine.locator('text=Make me owner').count()).toBe(0);
    await snap('created-as-owner');
    await mine.locator('text=Delete').click();
    await expect.poll(() => page.locator('[data-testid="room-general"]').count()).toBe(0);

    // Someone else, in another browser session, creates a room.
    const other = await newContext(browser);
    try {
      const otherPage = await other.newPage();
      await signIn(otherPage, '+15555550124');
      await otherPage.fill('#room-name', 'theirs');
      await otherPage.click('text=Create room');
      await otherPage.locator('[data-testid="room-theirs"]').waitFor();
    } finally {
      await other.close();
    }

    await page.goto(`${base}/rooms`);
    const theirs = page.locator('[data-testid="room-theirs"]');
    await theirs.waitFor();
    expect(await page.textContent('[data-testid="decision-theirs"]')).toContain('denied');
    await theirs.locator('text=Delete').click();
    const result = theirs.locator('[data-testid^="delete-result-"]');
    await expect.poll(() => result.textContent()).toContain('403');
    await snap('delete-denied');

    await theirs.locator('text=Make me owner').click();
    await expect.poll(() => page.textContent('[data-testid="decision-theirs"]')).toContain('allowed');
    await page.locator('[data-testid="room-theirs"]').locator('text=Delete').click();
    await expect.poll(() => page.locator('[data-testid="room-theirs"]').count()).toBe(0);
    await snap('deleted-as-owner');
  });

  it('keeps the event log within the window: long payloads wrap', async () => {
    // A long unbroken value in a payload: room.created carries the room's name.
    const longName = `room-${'x'.repeat(300)}`;
    await page.goto(`${base}/rooms`);
    await page.fill('#room-name', longName);
    await page.click('text=Create room');
    await page.locator(`[data-testid="room-${longName}"]`).waitFor();
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 600, height: 900 },
    ]) {
      await page.setViewportSize(viewport);
      await rendered('/events', () =>
        page.locator('[data-testid="event-data"]', { hasText: longName }).count(),
      ).toBeGreaterThan(0);
      const width = await page.evaluate(() => ({
        document: document.documentElement.scrollWidth,
        window: document.documentElement.clientWidth,
      }));
      await snap(`event-log-${viewport.width}`);
      expect(width.document, `event log at ${viewport.width}px`).toBeLessThanOrEqual(width.window);
    }
    await page.setViewportSize({ width: 1280, height: 720 });
  });

  // A form post redirects back to the page it came from: waiting for that URL returns at once, so each step
  // polls for what the new render shows instead.
  it('flips a flag and the chat UI follows', async () => {
    await page.goto(`${base}/chat`);
    expect(await page.getAttribute('[data-testid="chat-ui"]', 'data-ui')).toBe('classic');
    await snap('chat-classic');
    await page.goto(`${base}/flags`);
    await page.click('[data-testid="toggle-new-chat-ui"]');
    await expect.poll(() => page.textContent('[data-testid="flag-new-chat-ui-enabled"]')).toBe('on');
    await page.goto(`${base}/chat`);
    expect(await page.getAttribute('[data-testid="chat-ui"]', 'data-ui')).toBe('new');
    await snap('chat-new-ui');
  });

  it('sends a chat message, which reaches the event log as message.sent and analytics', async () => {
    await page.goto(`${base}/rooms`);
    await page.fill('#room-name', 'random');
    await page.click('text=Create room');
    await page.locator('[data-testid="room-random"]').waitFor();
    await page.goto(`${base}/chat`);
    await page.fill('input[name="text"]', 'hello from the browser');
    await page.click('text=Send');
    await expect
      .poll(() => page.locator('[data-testid="messages"]').textContent())
      .toContain('hello from the browser');
    await snap('message-sent');
    await rendered('/events', () =>
      page.locator('[data-testid="event-row"]', { hasText: 'message.sent' }).count(),
    ).toBeGreaterThan(0);
    await rendered('/events', () =>
      page.locator('[data-testid="event-row"]', { hasText: 'analytics.tracked' }).count(),
    ).toBeGreaterThan(0);
  });

  it('switches the email provider at runtime: the next email goes through the other one', async () => {
    const providerOfEmailTo = (to: string) =>
      page.locator('tr', { hasText: to }).locator('[data-testid="email-provider"]').textContent();
    await page.goto(`${base}/admin/email`);
    expect(await page.textContent('[data-testid="current-provider"]')).toBe('ses');
    await page.fill('#to', 'before-switch@example.com');
    await page.click('text=Send test email');
    await expect.poll(() => providerOfEmailTo('before-switch@example.com')).toBe('ses');

    await page.click('text=Switch to sendgrid');
    await expect.poll(() => page.textContent('[data-testid="current-provider"]')).toBe('sendgrid');
    await page.fill('#to', 'after-switch@example.com');
    await page.click('text=Send test email');
    await expect.poll(() => providerOfEmailTo('after-switch@example.com')).toBe('sendgrid');
    await snap('email-switched');
  });
});
