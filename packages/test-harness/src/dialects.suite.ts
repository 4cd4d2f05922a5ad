import { describe, expect, it } from 'vitest';
import { delegateName, packageModels, parentsFirst, rowData } from './dialects.fixture.js';
import { requireMariaDb } from './mariadb.js';
import { createTestPrismaMariaDb } from './prisma-mariadb.js';
import { requireSqlite } from './sqlite.js';

// The dialect suite: dialects.test.ts and dialects-parallel.test.ts both run it, at the same time (vitest runs
// files in parallel), and write the same primary keys: each file must see exactly its own row, in its own
// database.

/** Defines the MariaDB and SQLite round-trip suites in the calling test file. */
export async function dialectSuites(): Promise<void> {
  const mysqlPackages = packageModels('mysql');
  const sqlitePackages = packageModels('sqlite');
  const maria = await requireMariaDb({ migrations: [...mysqlPackages.map((p) => p.pkg), 'harness'] });
  const sqlite = await requireSqlite({ migrations: [...sqlitePackages.map((p) => p.pkg), 'harness'] });
  // better-sqlite3 is an optional native addon: its client loads only where it could be built.
  const { createTestPrismaSqlite } = sqlite.available
    ? await import('./prisma-sqlite.js')
    : { createTestPrismaSqlite: undefined as never };

  type Delegate = {
    create(args: { data: Record<string, unknown> }): Promise<Record<string, unknown>>;
    findMany(): Promise<Record<string, unknown>[]>;
  };

  // Every model of every package, then the harness's own smoke model, through one generated client.
  async function roundTrip(prisma: unknown, packages: ReturnType<typeof packageModels>) {
    const client = prisma as Record<string, Delegate>;
    let models = 0;
    for (const { pkg, models: list } of packages) {
      for (const model of parentsFirst(list)) {
        const data = rowData(model, list);
        const delegate = client[delegateName(model.name)];
        if (!delegate) throw new Error(`${pkg}: the generated client has no ${model.name}`);
        const created = await delegate.create({ data });
        expect(created, `${pkg} ${model.name}`).toMatchObject(data);
        const rows = await delegate.findMany();
        expect(rows, `${pkg} ${model.name} (one row: this file's database only)`).toHaveLength(1);
        expect(rows[0], `${pkg} ${model.name}`).toMatchObject(data);
        models++;
      }
    }
    expect(models).toBeGreaterThanOrEqual(10);
    const smoke = client.harnessSmoke as Delegate & {
      findUnique(args: { where: { id: unknown } }): Promise<unknown>;
    };
    const row = await smoke.create({ data: { label: 'from prisma' } });
    expect(await smoke.findUnique({ where: { id: row.id } })).toEqual(row);
  }

  describe.skipIf(!maria.available)('harness: real MariaDB through the generated MySQL client', () => {
    it('round-trips a row of every model of every package', async () => {
      await roundTrip(createTestPrismaMariaDb(maria), mysqlPackages);
    });

    it('creates its own database and applies the DDL there', async () => {
      const rows = await maria.query<{ n: number | bigint }[]>(
        'SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = ?',
        [maria.database],
      );
      expect(Number(rows[0]?.n)).toBeGreaterThan(10);
    });
  });

  describe.skipIf(!sqlite.available)('harness: SQLite file through the generated SQLite client', () => {
    it('round-trips a row of every model of every package', async () => {
      await roundTrip(createTestPrismaSqlite(sqlite), sqlitePackages);
      // The rows are in this file's database file.
      expect(sqlite.db.prepare('SELECT label FROM harness_smoke').all()).toEqual([{ label: 'from prisma' }]);
    });

    it('enforces the foreign keys the schema declares', async () => {
      const prisma = createTestPrismaSqlite(sqlite);
      await expect(
        prisma.permissionRule.create({
          data: { role: 'no-such-role', effect: 'allow', resource: '*', action: '*' },
        }),
      ).rejects.toThrow(/foreign key/i);
    });
  });
}
