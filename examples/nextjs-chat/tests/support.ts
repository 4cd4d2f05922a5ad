import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@app/test-harness';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const appDir = join(import.meta.dirname, '..');
export const shotsDir = join(appDir, 'test-results');

// Sized for a loaded machine (both cores busy with other work), where `next start` and Chromium start slowly
// and a server-rendered page can take seconds. No test asserts on time: these only bound a hang.
/** How long `next start` may take to say "Ready". */
export const NEXT_READY_TIMEOUT_MS = 180_000;
/** A `beforeAll` that starts servers and Chromium. */
export const STARTUP_TIMEOUT_MS = 300_000;
/** One browser action or navigation (Playwright's default is 30 s). */
export const ACTION_TIMEOUT_MS = 90_000;

/**
 * Whether the browser tests can run here: Chromium installed and the app built. Outside CI a missing piece
 * skips them with one line; with CI=true it fails the run.
 */
export function browserTestsRunnable(label: string): boolean {
  const haveChromium = existsSync(CHROMIUM);
  const built = existsSync(join(appDir, '.next', 'BUILD_ID'));
  if (haveChromium && built) return true;
  const why = !haveChromium
    ? `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`
    : 'the app is not built (pnpm build)';
  if (process.env.CI === 'true') throw new Error(`[nextjs-chat] ${label} cannot run: ${why}`);
  console.warn(`[nextjs-chat] SKIPPING ${label}: ${why}`);
  return false;
}

/** A `next start` of the built app on a free port. */
export interface NextServer {
  base: string;
  stop(): Promise<void>;
}

/** Starts the built app with `env` (on top of this process's environment, minus REDIS_URL/DATABASE_URL). */
export async function startNext(env: Record<string, string>): Promise<NextServer> {
  const port = await freePort();
  const { REDIS_URL: _redis, DATABASE_URL: _database, ...inherited } = process.env;
  const child: ChildProcess = spawn(
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
      // In memory unless a test asks otherwise: every test starts from a fresh state.
      env: { ...inherited, NEXT_TELEMETRY_DISABLED: '1', APP_STORAGE: 'memory', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`next start did not become ready:\n${output}`)),
      NEXT_READY_TIMEOUT_MS,
    );
    child.stdout?.on('data', (d: Buffer) => {
      output += d;
      if (output.includes('Ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`next start exited with ${code}:\n${output}`));
    });
  });
  return {
    base: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
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

/** A new browser context (its own cookies: another user) with the action and navigation timeouts above. */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  return context;
}

/** A page in a new {@link newContext}; closing the page closes its context. */
export async function newPage(browser: Browser): Promise<Page> {
  const context = await newContext(browser);
  const page = await context.newPage();
  page.once('close', () => void context.close().catch(() => {}));
  return page;
}
