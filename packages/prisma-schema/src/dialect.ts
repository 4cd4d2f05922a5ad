import {
  fieldList,
  type PrismaAttribute,
  type PrismaField,
  type PrismaModel,
  type PrismaSchema,
  parseSchema,
  renderSchema,
  SCALAR_TYPES,
} from './parse.js';

/** The databases the @app Prisma models are written for. */
export type PrismaProvider = 'postgresql' | 'mysql' | 'sqlite';

/** Every supported provider. */
export const PRISMA_PROVIDERS: readonly PrismaProvider[] = ['postgresql', 'mysql', 'sqlite'];

/** InnoDB's longest index key, in bytes (utf8mb4: 4 bytes a character). */
const MYSQL_MAX_KEY_BYTES = 3072;
/** The column type Prisma gives a `String` on MySQL without a `@db` attribute. */
export const MYSQL_DEFAULT_VARCHAR = 191;

/**
 * PostgreSQL native types (as the package fragments write them) on MySQL. `null` drops the attribute
 * (Prisma's default mapping is right); a function maps the arguments.
 */
const MYSQL_NATIVE: Record<string, ((args?: string) => PrismaAttribute) | null> = {
  Timestamptz: (args) => ({ name: 'db.DateTime', args: args ?? '3' }),
  Timestamp: (args) => ({ name: 'db.DateTime', args: args ?? '3' }),
  Timetz: (args) => ({ name: 'db.Time', args: args ?? '3' }),
  Time: (args) => ({ name: 'db.Time', args: args ?? '3' }),
  Date: () => ({ name: 'db.Date' }),
  Uuid: () => ({ name: 'db.Char', args: '36' }),
  Text: () => ({ name: 'db.Text' }),
  VarChar: (args) => ({ name: 'db.VarChar', args: args ?? String(MYSQL_DEFAULT_VARCHAR) }),
  Char: (args) => ({ name: 'db.Char', args: args ?? '1' }),
  Citext: null,
  Integer: () => ({ name: 'db.Int' }),
  SmallInt: () => ({ name: 'db.SmallInt' }),
  BigInt: () => ({ name: 'db.BigInt' }),
  DoublePrecision: () => ({ name: 'db.Double' }),
  Real: () => ({ name: 'db.Float' }),
  Decimal: (args) => ({ name: 'db.Decimal', args }),
  Boolean: null,
  JsonB: null,
  Json: null,
  ByteA: null,
};

/** A `@default(dbgenerated("..."))` PostgreSQL expression the client can produce on every provider. */
const PORTABLE_DEFAULTS: Record<string, string> = {
  'gen_random_uuid()': 'uuid()',
  'uuid_generate_v4()': 'uuid()',
  'now()': 'now()',
  CURRENT_TIMESTAMP: 'now()',
};

const hasAttr = (f: PrismaField, name: string) => f.attributes.some((a) => a.name === name);
const defaultOf = (f: PrismaField) => f.attributes.find((a) => a.name === 'default');

/** The key column lists of a model: its id, unique and index attributes, field and block level. */
export function modelKeys(model: PrismaModel): { kind: 'id' | 'unique' | 'index'; fields: string[] }[] {
  const keys: { kind: 'id' | 'unique' | 'index'; fields: string[] }[] = [];
  for (const f of model.fields) {
    if (hasAttr(f, 'id')) keys.push({ kind: 'id', fields: [f.name] });
    if (hasAttr(f, 'unique')) keys.push({ kind: 'unique', fields: [f.name] });
  }
  for (const a of model.attributes) {
    if (a.name === 'id' || a.name === 'unique' || a.name === 'index') {
      keys.push({ kind: a.name, fields: fieldList(a.args) });
    }
  }
  return keys;
}

function mapDefault(model: PrismaModel, field: PrismaField, provider: PrismaProvider): void {
  const def = defaultOf(field);
  if (!def?.args) return;
  const generated = /^\s*dbgenerated\(\s*"(.*)"\s*\)\s*$/.exec(def.args);
  if (generated) {
    const portable = PORTABLE_DEFAULTS[generated[1] ?? ''];
    if (!portable) {
      throw new Error(
        `[prisma-schema] ${model.name}.${field.name}: @default(dbgenerated("${generated[1]}")) has no ${provider} equivalent`,
      );
    }
    def.args = portable;
  }
}

function mapField(model: PrismaModel, field: PrismaField, provider: PrismaProvider): void {
  if (provider === 'postgresql') return;
  mapDefault(model, field, provider);
  if (field.list && SCALAR_TYPES.has(field.type)) {
    // Scalar lists are PostgreSQL only: the list is kept as a JSON array.
    field.docs.push(
      `Stored as a JSON array of ${field.type} values on ${provider} (a ${field.type}[] on PostgreSQL).`,
    );
    field.type = 'Json';
    field.list = false;
    field.attributes = field.attributes.filter((a) => !a.name.startsWith('db.'));
    return;
  }
  const out: PrismaAttribute[] = [];
  for (const a of field.attributes) {
    if (!a.name.startsWith('db.')) out.push(a);
    else if (provider === 'mysql') {
      const native = a.name.slice(3);
      if (!(native in MYSQL_NATIVE)) {
        throw new Error(`[prisma-schema] ${model.name}.${field.name}: @${a.name} has no mysql equivalent`);
      }
      const mapped = MYSQL_NATIVE[native];
      if (mapped) out.push(mapped(a.args));
    }
    // SQLite has no native type attributes: every @db.* goes.
  }
  field.attributes = out;
}

/** Bytes a MySQL key column takes (utf8mb4), or 0 when it is not a string. */
function mysqlKeyBytes(field: PrismaField): number {
  if (field.type !== 'String') return field.type === 'BigInt' || field.type === 'DateTime' ? 8 : 4;
  const db = field.attributes.find((a) => a.name.startsWith('db.'));
  if (!db) return MYSQL_DEFAULT_VARCHAR * 4;
  if (db.name === 'db.VarChar' || db.name === 'db.Char') return Number(db.args) * 4;
  return Number.POSITIVE_INFINITY; // TEXT and friends: needs a shorter type.
}

/**
 * MySQL strings: a String that is in no key becomes TEXT (PostgreSQL's `text` has no length limit, Prisma's
 * MySQL default VARCHAR(191) would cut values); key columns stay VARCHAR (a TEXT key column becomes
 * VARCHAR(191)), and a key over InnoDB's 3072 bytes gets shorter columns.
 */
function fitMysqlKeys(model: PrismaModel): void {
  const byName = new Map(model.fields.map((f) => [f.name, f]));
  const keyed = new Set(modelKeys(model).flatMap((k) => k.fields));
  for (const f of model.fields) {
    const relation = f.attributes.find((a) => a.name === 'relation');
    for (const n of fieldList(relation?.args, 'fields')) keyed.add(n);
  }
  for (const f of model.fields) {
    if (f.type === 'String' && !keyed.has(f.name) && !f.attributes.some((a) => a.name.startsWith('db.'))) {
      f.attributes.push({ name: 'db.Text' });
    }
  }
  for (const key of modelKeys(model)) {
    const fields = key.fields.map((n) => byName.get(n)).filter((f): f is PrismaField => !!f);
    for (const f of fields) {
      if (mysqlKeyBytes(f) === Number.POSITIVE_INFINITY) {
        f.attributes = f.attributes.filter((a) => !a.name.startsWith('db.'));
      }
    }
    const total = fields.reduce((n, f) => n + mysqlKeyBytes(f), 0);
    if (total <= MYSQL_MAX_KEY_BYTES) continue;
    const free = fields.filter(
      (f) => f.type === 'String' && !f.attributes.some((a) => a.name.startsWith('db.')),
    );
    const fixed = fields.filter((f) => !free.includes(f)).reduce((n, f) => n + mysqlKeyBytes(f), 0);
    const length = Math.floor((MYSQL_MAX_KEY_BYTES - fixed) / 4 / Math.max(1, free.length));
    for (const f of free) {
      f.attributes.push({ name: 'db.VarChar', args: String(length) });
      f.docs.push(
        `At most ${length} characters on MySQL (the key must fit InnoDB's ${MYSQL_MAX_KEY_BYTES} bytes).`,
      );
    }
  }
}

/** autoincrement() on a column that is not the id: MySQL needs it to lead an index; SQLite cannot. */
function fitAutoincrement(model: PrismaModel, provider: PrismaProvider): void {
  for (const f of model.fields) {
    const def = defaultOf(f);
    if (def?.args?.trim() !== 'autoincrement()' || hasAttr(f, 'id')) continue;
    if (provider === 'mysql') {
      if (!modelKeys(model).some((k) => k.fields[0] === f.name)) {
        const at = model.attributes.findIndex((a) => a.name === 'map');
        model.attributes.splice(at < 0 ? model.attributes.length : at, 0, {
          name: 'index',
          args: `[${f.name}]`,
        });
      }
    } else if (provider === 'sqlite') {
      f.attributes = f.attributes.filter((a) => a !== def);
      f.docs.push(
        'SQLite numbers only the primary key: the writer assigns this column (max + 1 in its transaction).',
      );
    }
  }
}

/**
 * The models of a schema (or fragment) rewritten for `provider`: the fragments are written for PostgreSQL,
 * and this maps what the other providers lack or spell differently.
 *
 * - `@db.Timestamptz(n)` becomes `@db.DateTime(n)` on MySQL; `@db.Uuid` becomes `@db.Char(36)`; every `@db.*`
 *   goes on SQLite (which has no native type attributes).
 * - Scalar lists (`DateTime[]`) become `Json` (a JSON array) on MySQL and SQLite.
 * - `@default(dbgenerated("gen_random_uuid()"))` becomes `@default(uuid())`; another `dbgenerated` is an error.
 * - MySQL keys fit InnoDB: a `@db.Text` key column becomes `VARCHAR(191)`, and a composite key over 3072
 *   bytes gets shorter `@db.VarChar(n)` columns; `autoincrement()` on a non-id column gets an index.
 * - SQLite: `autoincrement()` on a non-id column is dropped (the writer assigns the value).
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { schemaForProvider } from '@app/prisma-schema';
 * const models = schemaForProvider(readFileSync('node_modules/@app/otp/prisma/schema.prisma', 'utf8'), 'mysql');
 * ```
 */
export function schemaForProvider(text: string, provider: PrismaProvider): string {
  return renderSchema(transformSchema(parseSchema(text), provider));
}

/**
 * {@link schemaForProvider} on a parsed schema: returns a rewritten copy.
 *
 * @example
 * ```ts
 * const schema = transformSchema(parseSchema(text), 'sqlite');
 * ```
 */
export function transformSchema(schema: PrismaSchema, provider: PrismaProvider): PrismaSchema {
  if (!PRISMA_PROVIDERS.includes(provider)) {
    throw new Error(`[prisma-schema] unknown provider "${provider}": use ${PRISMA_PROVIDERS.join(', ')}`);
  }
  const copy: PrismaSchema = structuredClone(schema);
  for (const model of copy.models) {
    for (const field of model.fields) mapField(model, field, provider);
    if (provider === 'mysql') fitMysqlKeys(model);
    fitAutoincrement(model, provider);
  }
  return copy;
}
