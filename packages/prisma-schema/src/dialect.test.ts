import { describe, expect, it } from 'vitest';
import { schemaForProvider } from './dialect.js';
import { parseSchema } from './parse.js';
import { schemaSql, splitSql } from './sql.js';

const fragment = `generator client {
  provider = "prisma-client"
}

datasource db {
  provider = "postgresql"
}

/// A thing.
model Thing {
  id      String   @id @default(dbgenerated("gen_random_uuid()")) @db.Uuid
  /// free text
  note    String   @db.Text
  at      DateTime @default(now()) @map("at_ts") @db.Timestamptz(3)
  times   DateTime[] @db.Timestamptz(3)
  seq     BigInt   @default(autoincrement())
  a       String
  b       String
  c       String
  d       String
  e       String
  flag    Boolean  @default(true) // trailing comment
  label   String   @default("it's")

  @@unique([a, b, c, d, e])
  @@map("things")
}
`;

describe('schemaForProvider', () => {
  it('keeps PostgreSQL models as written (minus generator and datasource)', () => {
    const out = schemaForProvider(fragment, 'postgresql');
    expect(out).not.toContain('datasource');
    expect(out).toContain('@db.Timestamptz(3)');
    expect(out).toContain('DateTime[]');
    expect(parseSchema(out)).toEqual(parseSchema(fragment));
  });

  it('maps types, keys and defaults for MySQL', () => {
    const model = parseSchema(schemaForProvider(fragment, 'mysql')).models[0];
    const field = (n: string) => model?.fields.find((f) => f.name === n);
    expect(field('id')?.attributes).toEqual([
      { name: 'id' },
      { name: 'default', args: 'uuid()' },
      { name: 'db.Char', args: '36' },
    ]);
    expect(field('at')?.attributes).toContainEqual({ name: 'db.DateTime', args: '3' });
    expect(field('times')).toMatchObject({ type: 'Json', list: false, attributes: [] });
    expect(field('note')?.attributes).toEqual([{ name: 'db.Text' }]);
    // Five VARCHAR(191) would be 3820 bytes: each is cut to 153 characters.
    expect(field('a')?.attributes).toEqual([{ name: 'db.VarChar', args: '153' }]);
    // autoincrement() outside the id needs an index on MySQL.
    expect(model?.attributes).toContainEqual({ name: 'index', args: '[seq]' });
  });

  it('drops native types and non-id autoincrement for SQLite', () => {
    const out = schemaForProvider(fragment, 'sqlite');
    expect(out).not.toContain('@db.');
    expect(out).not.toContain('autoincrement');
    expect(out).toMatch(/times\s+Json/);
  });

  it('refuses a database-generated default it cannot carry over', () => {
    const bad = fragment.replace('gen_random_uuid()', 'my_function()');
    expect(() => schemaForProvider(bad, 'mysql')).toThrow(
      /Thing\.id: @default\(dbgenerated\("my_function\(\)"\)\) has no mysql equivalent/,
    );
  });
});

describe('schemaSql', () => {
  it('writes MySQL DDL with defaults, keys and indexes', () => {
    const sql = schemaSql(fragment, 'mysql');
    expect(sql).toContain('`at_ts` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)');
    expect(sql).toContain('`seq` BIGINT NOT NULL AUTO_INCREMENT');
    expect(sql).toContain("`label` TEXT NOT NULL DEFAULT 'it''s'");
    expect(sql).toContain('UNIQUE INDEX `things_a_b_c_d_e_key`(`a`, `b`, `c`, `d`, `e`)');
    expect(sql).toContain('INDEX `things_seq_idx`(`seq`)');
    expect(splitSql(sql)).toHaveLength(1);
  });

  it('writes SQLite DDL', () => {
    const sql = schemaSql(fragment, 'sqlite');
    expect(sql).toContain('"flag" BOOLEAN NOT NULL DEFAULT 1');
    expect(sql).toContain('CONSTRAINT "things_pkey" PRIMARY KEY ("id")');
    expect(splitSql(sql)).toEqual([
      expect.stringMatching(/^CREATE TABLE "things"/),
      expect.stringMatching(/^CREATE UNIQUE INDEX/),
    ]);
  });
});
