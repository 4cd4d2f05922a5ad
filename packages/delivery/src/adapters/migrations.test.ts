import { readFileSync } from 'node:fs';
import { requireMariaDb, requireSqlite, shippedMigration } from '@app/test-harness';
import { describe, expect, it } from 'vitest';

// The shipped MySQL and SQLite migrations are applied to empty databases of their own, and must be what
// @app/prisma-schema writes from prisma/schema.prisma (the DDL every Prisma test here runs on).
const shipped = (provider: 'mysql' | 'sqlite') =>
  readFileSync(new URL(`../../prisma/migrations/${provider}/0001_init.sql`, import.meta.url), 'utf8');
const generated = (provider: 'mysql' | 'sqlite') =>
  readFileSync(
    new URL(`../../../test-harness/generated/${provider}/migrations/delivery.sql`, import.meta.url),
    'utf8',
  );
const body = (sql: string) => sql.replace(/^--.*\n/, '');
const TABLES = ['app_delivery_idempotency', 'app_delivery_status', 'app_delivery_status_event'];

const [maria, sqlite] = await Promise.all([requireMariaDb(), requireSqlite()]);

describe('the shipped migrations for MySQL and SQLite', () => {
  it('are what @app/prisma-schema generates from prisma/schema.prisma', () => {
    for (const provider of ['mysql', 'sqlite'] as const)
      expect(body(shipped(provider))).toBe(body(generated(provider)));
  });

  it.skipIf(!maria.available)('apply to an empty MariaDB database', async () => {
    for (const sql of shippedMigration('delivery', 'mysql')) await maria.query(sql);
    const rows = await maria.query<Array<{ t: string }>>(
      'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY 1',
      [maria.database],
    );
    expect(rows.map((r) => r.t)).toEqual(TABLES);
  });

  it.skipIf(!sqlite.available)('apply to an empty SQLite file', () => {
    for (const sql of shippedMigration('delivery', 'sqlite')) sqlite.db.exec(sql);
    const rows = sqlite.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'app_%' ORDER BY 1")
      .all() as Array<{ name: string }>;
    expect(rows.map((r) => r.name)).toEqual(TABLES);
  });
});
