import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The whole demo driven in a real browser: Debian's Chromium through playwright-core, against `next start` on a
// free port with in-memory services. Screenshots land in test-results/ as artifacts.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const appDir = join(import.meta.dirname, '..');
const shots = join(appDir, 'test-results');
const haveChromium = existsSync(CHROMIUM);
const built = existsSync(join(appDir, '.next', 'BUILD_ID'));

if (!haveChromium || !built) {
  const why = !haveChromium
    ? `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`
    : 'the app is not built (pnpm build)';
  if (process.env.CI === 'true') throw new Error(`[nextjs-chat] browser tests cannot run: ${why}`);
  console.warn(`[nextjs-chat] SKIPPING browser tests: ${why}`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe.skipIf(!haveChromium || !built)('nextjs-chat in Chromium', () => {
  let server: ChildProcess;
  let browser: Browser;
  let page: Page;
  let base: string;
  let shot = 0;
  const snap = async (name: string) => {
    shot++;
    await page.screenshot({
      path: join(shots, `${String(shot).padStart(2, '0')}-${name}.png`),
      fullPage: true,
    });
  };

  beforeAll(async () => {
    rmSync(shots, { recursive: true, force: true });
    mkdirSync(shots, { recursive: true });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // In-memory services: the browser test must not depend on the developer's REDIS_URL/DATABASE_URL.
    const { REDIS_URL: _redis, DATABASE_URL: _database, ...inherited } = process.env;
    const env = {
      ...inherited,
      NEXT_TELEMETRY_DISABLED: '1',
      INSTANCE_NAME: 'browser-test',
      PORT: String(port),
    };
    server = spawn(
      process.execPath,
      [
        join(appDir, 'node_modules', 'next', 'dist', 'bin', 'next'),
        'start',
        '-p',
        String(port),
        '-H',
        '127.0.0.1',
      ],
      {
        cwd: appDir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`next start did not become ready:\n${output}`)),
        60_000,
      );
      const onData = (d: Buffer) => {
        output += d;
        if (output.includes('Ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      server.stdout?.on('data', onData);
      server.stderr?.on('data', (d: Buffer) => {
        output += d;
      });
      server.once('exit', (code) => reject(new Error(`next start exited with ${code}:\n${output}`)));
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-dev-shm-usage',
      ],
    });
    page = await browser.newPage();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
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
