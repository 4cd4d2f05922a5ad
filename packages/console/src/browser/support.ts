// Browser-test support: Debian's Chromium through playwright-core, a Node server for the console (users told
// apart by user agent, an ambient credential a cross-site request carries too), axe-core, screenshots.
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { nodeConsole } from '../node.js';
import type { ConsoleHandler } from '../types.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const artifactsDir = join(import.meta.dirname, '..', '..', 'test-artifacts');
/** One browser action or navigation, sized for a loaded machine (no test asserts on time). */
export const ACTION_TIMEOUT_MS = 90_000;

/** Whether Chromium is here: outside CI a missing one skips with a line saying so; with CI=true it fails. */
export function browserTestsRunnable(label: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  const why = `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  if (process.env.CI === 'true') throw new Error(`[@app/console] ${label} cannot run: ${why}`);
  console.warn(`[@app/console] SKIPPING ${label}: ${why}`);
  return false;
}

/** Debian's Chromium, headless, with the flags this sandbox needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-dev-shm-usage',
    ],
  });
}

/** A page of a new context whose requests the test server attributes to `user`. */
export async function pageAs(browser: Browser, user: string): Promise<Page> {
  const context = await browser.newContext({
    userAgent: `console-test/${user}`,
    viewport: { width: 1280, height: 860 },
  });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  const page = await context.newPage();
  page.once('close', () => void context.close().catch(() => {}));
  return page;
}

/** What the test server answered to one write. */
export interface WriteLog {
  method: string;
  path: string;
  status: number;
  fetchSite: string | undefined;
}

/** The console behind a Node server, and a log of the writes it answered. */
export interface ConsoleServer {
  base: string;
  writes: WriteLog[];
  /** Resolves with the first logged write matching `predicate` (already logged or coming). */
  waitForWrite(predicate: (log: WriteLog) => boolean): Promise<WriteLog>;
  close(): Promise<void>;
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port)),
  );
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Serves `handler`; the user is read from the user agent (`console-test/<user>`). */
export async function serveConsole(handler: ConsoleHandler): Promise<ConsoleServer> {
  const writes: WriteLog[] = [];
  const events = new EventEmitter();
  const serve = nodeConsole(handler);
  const server = createServer((req, res) => {
    const user = /console-test\/(\S+)/.exec(req.headers['user-agent'] ?? '')?.[1];
    if (user) req.headers['x-user'] = user;
    if (req.method !== 'GET') {
      res.once('finish', () => {
        const log = {
          method: req.method ?? '',
          path: req.url ?? '',
          status: res.statusCode,
          fetchSite: req.headers['sec-fetch-site'] as string | undefined,
        };
        writes.push(log);
        events.emit('write', log);
      });
    }
    void serve(req, res);
  });
  const port = await listen(server, '127.0.0.1');
  return {
    base: `http://127.0.0.1:${port}`,
    writes,
    waitForWrite(predicate) {
      const found = writes.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => {
        const listener = (log: WriteLog) => {
          if (!predicate(log)) return;
          events.off('write', listener);
          resolve(log);
        };
        events.on('write', listener);
      });
    },
    close: () => closeServer(server),
  };
}

/**
 * Another site (`localhost` is not the same site as `127.0.0.1`) whose page, once opened, tries to toggle a
 * flag on the console: a fetch with credentials and an auto-submitted form.
 */
export async function serveForgery(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const html = `<!doctype html><html lang="en"><head><title>Win a prize</title></head><body>
<form id="f" method="POST" action="${target}" enctype="text/plain"><input name='{"a":"' value='"}'></form>
<script>
fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include', body: '{}' })
  .finally(() => document.getElementById('f').submit());
</script></body></html>`;
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(html);
  });
  const port = await listen(server, '127.0.0.1');
  return { url: `http://localhost:${port}/`, close: () => closeServer(server) };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** One axe-core violation, as reported. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
}

/** Runs axe-core in the page (evaluated over CDP, so the console's CSP stays on); returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(): Promise<{
            violations: { id: string; impact: string | null; help: string; nodes: unknown[] }[];
          }>;
        };
      }
    ).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.length,
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Saves a screenshot of the page as a test artefact. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
