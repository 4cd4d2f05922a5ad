// The browser walk through every section, run on each infrastructure (memory; Redis + PostgreSQL).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { ADDRESS, type buildServices, OPERATOR, PHONE, SECRET, VIEWER } from '../__fixtures__/services.js';
import {
  artifactsDir,
  type ConsoleServer,
  pageAs,
  screenshot,
  seriousViolations,
  serveForgery,
} from './support.js';

type Services = Awaited<ReturnType<typeof buildServices>>;

/** Everything a walk needs. */
export interface Walk {
  browser: Browser;
  services: Services;
  server: ConsoleServer;
  /** Prefix of the screenshot names (`memory`, `redis-pg`). */
  label: string;
}

async function open(page: Page, server: ConsoleServer, section: string) {
  await page.goto(`${server.base}/console/#${section}`);
  await page.locator(`main[data-section="${section}"] table`).first().waitFor();
}

function recordLoad(label: string, ms: number) {
  mkdirSync(artifactsDir, { recursive: true });
  writeFileSync(
    join(artifactsDir, `${label}-load.json`),
    JSON.stringify({ firstPaintOfFlagsMs: Math.round(ms) }),
  );
  console.info(`[@app/console] ${label}: flags table on screen ${Math.round(ms)} ms after navigation (cold)`);
}

async function check(page: Page, walk: Walk, name: string) {
  expect(await seriousViolations(page), `axe on ${name}`).toEqual([]);
  await screenshot(page, `${walk.label}-${name}`);
  const text = await page.content();
  for (const secret of [SECRET, PHONE, ADDRESS]) expect(text, name).not.toContain(secret);
}

/** Flags: toggle and see the other instance follow; evaluate with the reason. */
export async function walkFlags(page: Page, walk: Walk) {
  const { services, server } = walk;
  // A figure, not a pass/fail bound: from navigation to the flags table on screen (cold: first visit).
  const started = performance.now();
  await open(page, server, 'flags');
  recordLoad(walk.label, performance.now() - started);
  const row = page.locator('tr[data-flag="new-checkout"]');
  await expect.poll(() => row.locator('[data-state]').textContent()).toBe('on');
  const followed = new Promise<void>((resolve) => {
    const stop = services.otherFlags.onChange(() => {
      if (services.otherFlags.definition('new-checkout')?.enabled === false) {
        stop();
        resolve();
      }
    });
  });
  await row.getByRole('button', { name: 'Disable new-checkout' }).click();
  await followed;
  // The page learns of the change through the live stream (no polling in the page).
  await page.locator('tr[data-flag="new-checkout"] [data-state]', { hasText: 'off' }).waitFor();
  await page.getByLabel('Flag', { exact: true }).selectOption('beta-banner');
  await page.getByLabel('Context (JSON)').fill('{"userId":"u-1","email":"ann@corp.example"}');
  await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
  await expect.poll(() => page.locator('[data-evaluation]').textContent()).toContain('"reason": "DISABLED"');
  await check(page, walk, 'flags');
}

/** Config: values with versions, a schema rejection, a set that appears live. */
export async function walkConfig(page: Page, walk: Walk) {
  await open(page, walk.server, 'config');
  await page.getByLabel('Prefix', { exact: true }).selectOption('app.');
  await page.locator('tr[data-key="app.support-phone"]').waitFor();
  await page.getByLabel('Key', { exact: true }).fill('app.max-rooms');
  await page.getByLabel('Value (JSON)').fill('-3');
  await page.getByRole('button', { name: 'Set key' }).click();
  await expect.poll(() => page.getByRole('status').textContent()).toMatch(/positive integer/);
  expect(await walk.services.config.get('app.max-rooms')).toBeUndefined();
  await page.getByLabel('Value (JSON)').fill('12');
  await page.getByRole('button', { name: 'Set key' }).click();
  await page.locator('tr[data-key="app.max-rooms"]').waitFor();
  expect(await walk.services.config.get('app.max-rooms')).toBe(12);
  await check(page, walk, 'config');
}

/** Events: a dead letter shows up live, is inspected, replayed and handled. */
export async function walkEvents(page: Page, walk: Walk) {
  const { services, server } = walk;
  await open(page, server, 'events');
  await services.bus.publish('mail.requested', { to: ADDRESS, template: 'welcome' });
  const letter = page.locator('tr[data-dead-letter]').first();
  await letter.waitFor();
  await letter.getByRole('button', { name: 'Inspect' }).click();
  await expect.poll(() => letter.locator('pre').textContent()).toContain('welcome');
  await check(page, walk, 'events');
  services.setHealthy(true);
  await letter.getByRole('button', { name: /^Replay / }).click();
  await services.waitHandled(1);
  await page.locator('tr[data-dead-letter]').first().waitFor({ state: 'detached' });
  expect(await services.bus.listDeadLetters('mailer')).toEqual([]);
  // Stream length and consumer groups come from the bus's own capabilities (no key layout in the console).
  const row = page.locator('tr[data-event="mail.requested"]');
  const length = Number(await services.bus.streamLength!('mail.requested'));
  await expect.poll(() => row.locator('td').first().textContent()).toBe(String(length));
  await expect.poll(() => row.locator('td').nth(2).textContent()).toContain('mailer: 0');
  // A dead letter deleted for good: it leaves the list and is never handled.
  services.setHealthy(false);
  await services.bus.publish('mail.requested', { to: ADDRESS, template: 'doomed' });
  const doomed = page.locator('tr[data-dead-letter]').first();
  await doomed.waitFor();
  await doomed.getByRole('button', { name: /^Delete / }).click();
  await doomed.waitFor({ state: 'detached' });
  expect(await services.bus.listDeadLetters('mailer')).toEqual([]);
  expect(services.handled).toHaveLength(1);
}

/** Delivery: recent sends without recipients, and the provider switch. */
export async function walkDelivery(page: Page, walk: Walk) {
  const { services, server } = walk;
  const at = new Date().toISOString();
  await services.bus.publish('email.sent', {
    messageId: 'm-1',
    provider: 'ses',
    status: 'sent',
    timestamp: at,
    recipientMasked: 'a***@example.com',
  });
  await services.bus.publish('sms.delivered', {
    id: 'sm-1',
    status: 'delivered',
    at: Date.now(),
    provider: 'twilio',
    toMasked: '+33*******78',
  });
  await open(page, server, 'delivery');
  await page.getByRole('cell', { name: 'sm-1' }).waitFor();
  await page.getByRole('button', { name: 'Use sendgrid' }).click();
  await page.locator('[data-channel="email"] [data-primary]', { hasText: 'sendgrid' }).waitFor();
  expect(await services.config.get('email.provider')).toBe('sendgrid');
  const text = await page.content();
  expect(text).not.toContain('a***@example.com');
  expect(text).not.toContain('+33*******78');
  await check(page, walk, 'delivery');
}

/** OTP: counts per purpose, never a code or destination. */
export async function walkOtp(page: Page, walk: Walk) {
  const { services, server } = walk;
  await services.bus.publish('otp.sent', {
    challengeId: 'ch-77',
    purpose: 'login',
    channel: 'sms',
    destinationHash: 'dh-77',
    expiresAt: '',
    attempts: 0,
  });
  await services.bus.publish('otp.verified', { challengeId: 'ch-77', purpose: 'login', attempts: 1 });
  await services.bus.publish('otp.failed', {
    purpose: 'reset',
    reason: 'mismatch',
    destinationHash: 'dh-78',
  });
  await open(page, server, 'otp');
  await page.locator('tr[data-purpose="reset"]').waitFor();
  const text = await page.content();
  expect(text).not.toContain('ch-77');
  expect(text).not.toContain('dh-7');
  await check(page, walk, 'otp');
}

/** Permissions: explain, grant and assign, explain again. */
export async function walkPermissions(page: Page, walk: Walk) {
  await open(page, walk.server, 'permissions');
  await page.locator('#ex-subject').fill('u-9');
  await page.locator('#ex-action').fill('delete');
  await page.locator('#ex-type').fill('room');
  await page.locator('#ex-id').fill('r1');
  await page.getByRole('button', { name: 'Explain' }).click();
  await page.locator('[data-decision]', { hasText: 'denied' }).waitFor();
  await page.getByLabel('Role', { exact: true }).fill('moderator');
  await page.getByLabel('Permission (resource:action)').fill('room:delete');
  await page.getByRole('button', { name: 'Grant' }).click();
  await page.locator('tr[data-role="moderator"]').waitFor();
  await page.locator('#pm-subject').fill('u-9');
  await page.getByRole('button', { name: 'Assign role', exact: true }).click();
  // The explanation follows live.
  await page.locator('[data-decision]', { hasText: 'allowed' }).waitFor();
  expect(await page.locator('[data-explanation]').textContent()).toContain('moderator');
  await check(page, walk, 'permissions');
}

/** A reader without console:write: read-only pages, 403 on a write made anyway. */
export async function walkReadOnly(walk: Walk) {
  const page = await pageAs(walk.browser, VIEWER);
  try {
    await open(page, walk.server, 'flags');
    await page.locator('main h2 .badge', { hasText: 'read-only' }).waitFor();
    expect(await page.getByRole('button', { name: /^(Enable|Disable) / }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'New flag' }).count()).toBe(0);
    const status = await page.evaluate(async () => {
      const session = await (await fetch('/console/api/session')).json();
      const response = await fetch('/console/api/flags/beta-banner/toggle', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-console-csrf': session.csrfToken },
        body: '{}',
      });
      return response.status;
    });
    expect(status).toBe(403);
    await screenshot(page, `${walk.label}-read-only`);
  } finally {
    await page.close();
  }
}

/** A page on another site tries to toggle a flag with the operator's ambient credentials: refused. */
export async function walkForgery(walk: Walk) {
  const { services, server } = walk;
  const before = services.flags.definition('beta-banner')?.enabled;
  const target = `${server.base}/console/api/flags/beta-banner/toggle`;
  const evil = await serveForgery(target);
  const page = await pageAs(walk.browser, OPERATOR);
  try {
    const refused = server.waitForWrite(
      (w) => w.path.endsWith('/beta-banner/toggle') && w.fetchSite === 'cross-site',
    );
    await page.goto(evil.url);
    const log = await refused;
    expect(log.status).toBe(403);
    expect(
      server.writes.filter((w) => w.path.endsWith('/beta-banner/toggle')).every((w) => w.status === 403),
    ).toBe(true);
    expect(services.flags.definition('beta-banner')?.enabled).toBe(before);
  } finally {
    await page.close();
    await evil.close();
  }
}
