import { modelKeys, type PrismaProvider, transformSchema } from './dialect.js';
import {
  fieldList,
  mappedName,
  type PrismaField,
  type PrismaModel,
  type PrismaSchema,
  parseSchema,
  SCALAR_TYPES,
} from './parse.js';

const nativeArg = (f: PrismaField, name: string) => f.attributes.find((a) => a.name === `db.${name}`);

// The column type of each scalar: [mysql, sqlite]. On mysql a `@db.X` native type replaces the default of a
// String, Int, Float, Decimal or DateTime field.
const COLUMN_TYPES: Record<string, readonly [mysql: string, sqlite: string]> = {
  String: ['VARCHAR(191)', 'TEXT'],
  Int: ['INTEGER', 'INTEGER'],
  BigInt: ['BIGINT', 'BIGINT'],
  Boolean: ['BOOLEAN', 'BOOLEAN'],
  Float: ['DOUBLE', 'REAL'],
  Decimal: ['DECIMAL(65, 30)', 'DECIMAL'],
  DateTime: ['DATETIME(3)', 'DATETIME'],
  Json: ['JSON', 'JSONB'],
  Bytes: ['LONGBLOB', 'BLOB'],
};
const MYSQL_NATIVE = new Set(['String', 'Int', 'Float', 'Decimal', 'DateTime']);

function columnType(f: PrismaField, provider: PrismaProvider): string {
  const types = COLUMN_TYPES[f.type];
  if (!types) throw new Error(`[prisma-schema] no ${provider} column type for ${f.name} ${f.type}`);
  if (provider !== 'mysql') return types[1];
  const db = MYSQL_NATIVE.has(f.type) ? f.attributes.find((a) => a.name.startsWith('db.')) : undefined;
  return db ? `${db.name.slice(3).toUpperCase()}${db.args ? `(${db.args})` : ''}` : types[0];
}

/** The SQL DEFAULT of a field, or '' when the client supplies the value (uuid(), cuid(), @updatedAt). */
function sqlDefault(f: PrismaField, provider: PrismaProvider): string {
  const args = f.attributes.find((a) => a.name === 'default')?.args?.trim();
  if (!args || args === 'autoincrement()' || /^(uuid|cuid|nanoid|ulid)\(/.test(args)) return '';
  if (args === 'now()') {
    const precision = nativeArg(f, 'DateTime')?.args ?? '3';
    return provider === 'mysql' ? ` DEFAULT CURRENT_TIMESTAMP(${precision})` : ' DEFAULT CURRENT_TIMESTAMP';
  }
  if (args.startsWith('"')) {
    const value = JSON.parse(args) as string;
    return ` DEFAULT '${value.replaceAll("'", "''")}'`;
  }
  if (args === 'true' || args === 'false') {
    return provider === 'mysql' ? ` DEFAULT ${args}` : ` DEFAULT ${args === 'true' ? 1 : 0}`;
  }
  if (/^-?\d+(\.\d+)?$/.test(args)) return ` DEFAULT ${args}`;
  throw new Error(`[prisma-schema] ${f.name}: no ${provider} SQL for @default(${args})`);
}

interface Table {
  name: string;
  column: (field: string) => string;
}

function tableOf(model: PrismaModel): Table {
  const byName = new Map(model.fields.map((f) => [f.name, f]));
  return {
    name: mappedName(model.attributes) ?? model.name,
    column: (field) => {
      const f = byName.get(field);
      if (!f) throw new Error(`[prisma-schema] ${model.name} has no field ${field}`);
      return mappedName(f.attributes) ?? f.name;
    },
  };
}

function createTable(model: PrismaModel, schema: PrismaSchema, provider: PrismaProvider): string[] {
  const q = provider === 'mysql' ? (s: string) => `\`${s}\`` : (s: string) => `"${s}"`;
  const t = tableOf(model);
  const cols = (fields: string[]) => fields.map((f) => q(t.column(f))).join(', ');
  const keys = modelKeys(model);
  const id = keys.find((k) => k.kind === 'id');
  const lines: string[] = [];
  const after: string[] = [];
  let inlinePk = false;
  for (const f of model.fields) {
    if (!SCALAR_TYPES.has(f.type)) continue;
    const auto = f.attributes.some((a) => a.name === 'default' && a.args?.trim() === 'autoincrement()');
    let line = `  ${q(t.column(f.name))} ${columnType(f, provider)}`;
    if (!f.optional) line += ' NOT NULL';
    if (auto && provider === 'sqlite') {
      line = `  ${q(t.column(f.name))} INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT`;
      inlinePk = true;
    } else if (auto) line += ' AUTO_INCREMENT';
    lines.push(line + sqlDefault(f, provider));
  }
  if (id && !inlinePk)
    lines.push(
      `  ${provider === 'mysql' ? '' : `CONSTRAINT ${q(`${t.name}_pkey`)} `}PRIMARY KEY (${cols(id.fields)})`,
    );
  for (const key of keys) {
    if (key.kind === 'id') continue;
    const suffix = key.kind === 'unique' ? 'key' : 'idx';
    const name = q(`${t.name}_${key.fields.map(t.column).join('_')}_${suffix}`);
    if (provider === 'mysql')
      lines.push(`  ${key.kind === 'unique' ? 'UNIQUE ' : ''}INDEX ${name}(${cols(key.fields)})`);
    else
      after.push(
        `CREATE ${key.kind === 'unique' ? 'UNIQUE ' : ''}INDEX ${name} ON ${q(t.name)}(${cols(key.fields)});`,
      );
  }
  for (const f of model.fields) {
    const rel = f.attributes.find((a) => a.name === 'relation');
    const fields = fieldList(rel?.args, 'fields');
    if (!rel || fields.length === 0) continue;
    const target = schema.models.find((m) => m.name === f.type);
    if (!target) throw new Error(`[prisma-schema] ${model.name}.${f.name}: no model ${f.type}`);
    const tt = tableOf(target);
    const onDelete = /onDelete:\s*(\w+)/.exec(rel.args ?? '')?.[1] ?? (f.optional ? 'SetNull' : 'Restrict');
    const onUpdate = /onUpdate:\s*(\w+)/.exec(rel.args ?? '')?.[1] ?? 'Cascade';
    const action = (a: string) =>
      a
        .replace(/([a-z])([A-Z])/g, '$1 $2')
        .toUpperCase()
        .replace('NO ACTION', 'NO ACTION');
    const fk = `CONSTRAINT ${q(`${t.name}_${fields.map(t.column).join('_')}_fkey`)} FOREIGN KEY (${cols(fields)}) REFERENCES ${q(tt.name)}(${fieldList(
      rel.args,
      'references',
    )
      .map((c) => q(tt.column(c)))
      .join(', ')}) ON DELETE ${action(onDelete)} ON UPDATE ${action(onUpdate)}`;
    if (provider === 'mysql') after.push(`ALTER TABLE ${q(t.name)} ADD ${fk};`);
    else lines.push(`  ${fk}`);
  }
  const tail = provider === 'mysql' ? ' DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci' : '';
  return [`CREATE TABLE ${q(t.name)} (\n${lines.join(',\n')}\n)${tail};`, ...after];
}

/**
 * The DDL that creates the tables of a schema (or fragment) on MySQL/MariaDB or SQLite: what
 * `prisma migrate diff --from-empty --to-schema ... --script` prints, for the subset of the schema language
 * the @app models use, without Prisma's schema engine. The schema is first rewritten for the provider
 * ({@link schemaForProvider}). Foreign keys come last on MySQL (ALTER TABLE), so tables may be in any order.
 *
 * @example
 * ```ts
 * import { readFileSync, writeFileSync } from 'node:fs';
 * import { schemaSql } from '@app/prisma-schema';
 * const sql = schemaSql(readFileSync('node_modules/@app/otp/prisma/schema.prisma', 'utf8'), 'sqlite');
 * writeFileSync('prisma/migrations/0001_otp/migration.sql', sql);
 * ```
 */
export function schemaSql(text: string, provider: Exclude<PrismaProvider, 'postgresql'>): string {
  const schema = transformSchema(parseSchema(text), provider);
  if (schema.otherBlocks.length > 0)
    throw new Error('[prisma-schema] schemaSql supports models only (no enum, view or type)');
  const statements: string[] = [];
  const fks: string[] = [];
  for (const model of schema.models) {
    const [create = '', ...rest] = createTable(model, schema, provider);
    statements.push(create);
    for (const s of rest) (s.startsWith('ALTER') ? fks : statements).push(s);
  }
  return `${[...statements, ...fks].join('\n\n')}\n`;
}

/**
 * Splits DDL from {@link schemaSql} into statements (for drivers that run one statement a call).
 *
 * @example
 * ```ts
 * for (const statement of splitSql(schemaSql(text, 'mysql'))) await connection.query(statement);
 * ```
 */
export function splitSql(sql: string): string[] {
  return sql
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
}
