import { afterAll } from 'vitest';

const HOW_TO_START: Record<string, string> = {
  Redis: 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
  PostgreSQL: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  MariaDB: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
  SQLite:
    'npm_config_nodedir=/usr pnpm rebuild better-sqlite3 (its native build needs Node headers: /usr/include/node)',
};

/**
 * Decides what an unreachable service means. With CI=true it is a failure: the returned promise rejects with
 * a message naming the service and how to start it. Otherwise the tests that need it are skipped, and one
 * line says so.
 */
export function serviceUnavailable(
  service: 'Redis' | 'PostgreSQL' | 'MariaDB' | 'SQLite',
  url: string,
  cause: unknown,
): void {
  const why = cause instanceof Error ? cause.message : String(cause);
  const start = HOW_TO_START[service];
  if (process.env.CI === 'true') {
    throw new Error(
      `[test-harness] ${service} is unreachable at ${url} (${why}). CI=true requires it. Start it with: ${start}`,
    );
  }
  console.warn(
    `[test-harness] SKIPPING tests that need ${service}: unreachable at ${url} (${why}). Start it with: ${start}`,
  );
}

/**
 * Runs `fn` after all tests of the calling file, whether they passed or not. Outside a vitest run (a bench
 * script) there is no file to end: the caller closes what it started.
 */
export function atEndOfFile(fn: () => Promise<void>): void {
  try {
    afterAll(fn, 30_000);
  } catch {
    // Not inside a test file.
  }
}

/**
 * The parts every database harness shares: whether the service answered, its URL, the pool, and an
 * idempotent `cleanup` that also runs after all tests of the calling file: `drop` what the file created
 * (only when the service was reachable; failures ignored), then end the pool.
 */
export function poolHarness<P extends { end(): Promise<unknown> }>(
  available: boolean,
  url: string,
  pool: P,
  drop: () => Promise<unknown>,
): { available: boolean; url: string; pool: P; cleanup(): Promise<void> } {
  let done: Promise<void> | undefined;
  const cleanup = () => {
    done ??= (async () => {
      if (available) await drop().catch(() => {});
      await pool.end().catch(() => {});
    })();
    return done;
  };
  atEndOfFile(cleanup);
  return { available, url, pool, cleanup };
}

/** A short random tag that keeps parallel test files apart. */
export function uniqueTag(): string {
  return `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
