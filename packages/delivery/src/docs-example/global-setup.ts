// Creates the table of docs/writing-an-adapter.md's worked example (its migration), so the snippet there runs
// exactly as printed. Postgres unreachable: the snippet's test fails, as the doc's reader's would.
import pg from 'pg';

export default async function setup(): Promise<void> {
  const connectionString = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
  const pool = new pg.Pool({ connectionString, connectionTimeoutMillis: 3000 });
  try {
    await pool.query(`CREATE TABLE IF NOT EXISTS idempotency (
      key TEXT PRIMARY KEY, token TEXT, fingerprint TEXT NOT NULL,
      result JSONB, expires_at TIMESTAMPTZ NOT NULL)`);
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    console.warn(`[delivery] docs example: Postgres unreachable (${(error as Error).message})`);
  } finally {
    await pool.end();
  }
}
