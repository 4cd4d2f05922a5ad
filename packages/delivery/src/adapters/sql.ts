import { type PrismaProvider, prismaProvider } from '@app/core';
import { DeliveryError, DeliveryErrorCode } from '../errors.js';

/** The databases the Prisma stores speak. */
export type SqlDialect = PrismaProvider;

/**
 * The part of a PrismaClient the Prisma stores use: raw SQL and batch transactions only, so any generated
 * client (PostgreSQL, MySQL/MariaDB or SQLite; extended ones too) fits and no generated type is imported.
 */
export interface PrismaDeliveryRawClient {
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<T>;
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
  $transaction(
    queries: PromiseLike<unknown>[],
    options?: { maxWait?: number; timeout?: number },
  ): PromiseLike<unknown[]>;
}

/** Options every Prisma store takes. */
export interface PrismaStoreOptions {
  /** Your PrismaClient, with the models of `prisma/schema.prisma` migrated. The store never disconnects it. */
  prisma: PrismaDeliveryRawClient;
  /**
   * The client's database, when it cannot be read from the client (a wrapped client): `postgresql`, `mysql`
   * (MariaDB too) or `sqlite`. @default read from the client (`_activeProvider`)
   */
  provider?: SqlDialect | undefined;
}

const DIALECTS: readonly string[] = ['postgresql', 'mysql', 'sqlite'];

/**
 * The database of a PrismaClient: the `provider` option when given, else what the generated client says.
 *
 * @example
 * ```ts
 * const dialect = sqlDialectOf({ prisma }); // 'postgresql'
 * ```
 */
export function sqlDialectOf(options: PrismaStoreOptions, what: string): SqlDialect {
  const fail = (message: string) =>
    new DeliveryError(DeliveryErrorCode.INVALID_OPTIONS, `[${what}] ${message}`);
  const prisma = options?.prisma;
  for (const method of ['$queryRaw', '$executeRaw', '$queryRawUnsafe', '$executeRawUnsafe', '$transaction']) {
    if (typeof (prisma as unknown as Record<string, unknown> | undefined)?.[method] !== 'function') {
      throw fail(`option 'prisma' must be a PrismaClient (${method} is missing)`);
    }
  }
  return prismaProvider(prisma, options.provider, (named) =>
    fail(
      named === undefined
        ? "cannot tell the client's database: pass option 'provider' ('postgresql', 'mysql' or 'sqlite')"
        : `option 'provider' must be one of ${DIALECTS.join(', ')}, got '${named}'`,
    ),
  );
}

/**
 * A parameterised statement written with `?` placeholders, renumbered `$1, $2...` for PostgreSQL: the
 * stores write each statement once and run it on every dialect. Values are always bound, never spliced.
 */
export function statement(dialect: SqlDialect, text: string): string {
  if (dialect !== 'postgresql') return text;
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/** A JS time as the stores bind it on `dialect`: a Date (PostgreSQL), UTC text (MySQL), ISO-8601 text (SQLite). */
export function sqlTime(dialect: SqlDialect, ms: number): Date | string {
  const date = new Date(ms);
  if (dialect === 'postgresql') return date;
  const iso = date.toISOString();
  return dialect === 'mysql' ? iso.slice(0, 23).replace('T', ' ') : iso;
}
