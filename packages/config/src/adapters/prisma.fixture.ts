// The Prisma store's suite, run once per database by prisma.test.ts (PostgreSQL), prisma.mariadb.test.ts and
// prisma.sqlite.test.ts, each on a database (or schema, or file) of its own, created from the migration the
// package ships for that database and dropped after the file.
import type { TestDatabase } from '@app/test-harness/database';
import { describe, expect, it } from 'vitest';
import { configStoreContract } from '../testing.js';
import type { ConfigRecord } from '../types.js';
import { type PrismaConfigClientLike, type PrismaConfigProvider, prismaConfigStore } from './prisma.js';

/** A row of `app_config_entries` as a database driver returns it. */
export interface RawConfigRow {
  key: string;
  value: string;
  version: string | number | bigint;
  deleted: boolean | number;
  expires_at: Date | string | number | null;
}

function epochMs(at: RawConfigRow['expires_at']): number | null {
  if (at === null) return null;
  if (at instanceof Date) return at.getTime();
  return typeof at === 'number' ? at : Date.parse(/Z|[+-]\d\d:?\d\d$/.test(at) ? at : `${at}Z`);
}

/** Registers the contract suite and the races on one database. */
export function prismaDialectSuite(db: TestDatabase, options: { concurrency?: number } = {}): void {
  const f = {
    provider: db.provider as PrismaConfigProvider,
    prisma: () => db.prisma<PrismaConfigClientLike>(),
    /** Every row, read with the harness' own connection (never through Prisma). */
    rows: () =>
      db.sql<RawConfigRow>(
        `SELECT ${db.provider === 'mysql' ? '`key`' : '"key"'}, value, version, deleted, expires_at FROM app_config_entries`,
      ),
    exec: async (sql: string) => void (await db.sql(sql)),
  };
  describe.skipIf(!db.available)(`prismaConfigStore on ${f.provider}`, () => {
    const concurrency = options.concurrency ?? 200;
    const inspect = async (): Promise<Map<string, ConfigRecord>> => {
      const out = new Map<string, ConfigRecord>();
      for (const row of await f.rows()) {
        const version = Number(row.version);
        if (row.deleted === true || row.deleted === 1)
          out.set(row.key, { key: row.key, version, deleted: true });
        else
          out.set(row.key, {
            key: row.key,
            version,
            value: JSON.parse(row.value),
            expiresAt: epochMs(row.expires_at),
            deleted: false,
          });
      }
      return out;
    };

    configStoreContract({
      describe,
      it,
      expect,
      name: `prisma (${f.provider})`,
      create: () => prismaConfigStore({ prisma: f.prisma() }),
      inspect,
      concurrency,
      timeoutMs: 120_000,
    });

    it('finds the database from the client, and takes `provider` when told', () => {
      expect(f.prisma()._activeProvider).toBe(f.provider);
      expect(() => prismaConfigStore({ prisma: f.prisma(), provider: 'oracle' as never })).toThrow(
        /provider/,
      );
    });

    it(`versions never go backwards: ${concurrency} concurrent writers while readers watch`, async () => {
      const store = prismaConfigStore({ prisma: f.prisma() });
      const key = `race.${f.provider}.${Math.random().toString(36).slice(2)}`;
      const seen: number[][] = [[], [], []];
      let writing = true;
      const readers = seen.map(async (versions) => {
        while (writing) {
          const got = await store.get(key);
          if (got) versions.push(got.version);
        }
      });
      const written = await Promise.all(
        Array.from({ length: concurrency }, (_, i) =>
          (i % 5 === 4 ? store.delete(key) : store.set(key, i)).then((r) => r?.version),
        ),
      );
      writing = false;
      await Promise.all(readers);
      const versions = written.filter((v): v is number => v !== undefined);
      expect(new Set(versions).size).toBe(versions.length); // no version handed out twice
      for (const reader of seen) expect(reader).toEqual([...reader].sort((a, b) => a - b)); // never back
      expect((await store.get(key))?.version).toBe(Math.max(...versions));
    });

    it('keys are case-sensitive and list takes the prefix literally, whatever the collation', async () => {
      const store = prismaConfigStore({ prisma: f.prisma() });
      await store.set('Case.A', 1);
      await store.set('case.a', 2);
      expect((await store.get('Case.A'))?.version).toBe(1);
      expect((await store.list('case.')).map((e) => e.key)).toEqual(['case.a']);
    });

    it('reports corrupt JSON in a row as a STORE_ERROR', async () => {
      const store = prismaConfigStore({ prisma: f.prisma() });
      const when = f.provider === 'sqlite' ? '0' : f.provider === 'mysql' ? 'NOW(3)' : 'now()';
      const q = f.provider === 'mysql' ? '`' : '"';
      await f.exec(
        `INSERT INTO app_config_entries (${q}key${q}, value, version, updated_at) VALUES ('corrupt', '{nope', 1, ${when})`,
      );
      await expect(store.get('corrupt')).rejects.toMatchObject({ code: 'STORE_ERROR' });
    });
  });
}
