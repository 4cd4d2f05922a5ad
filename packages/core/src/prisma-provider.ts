// Which database a PrismaClient talks to, as the SQL adapters of several packages need it (their statements
// differ per dialect). One place reads a client's provider and normalises Prisma's names.

/** The SQL dialects the packages' Prisma adapters speak (Prisma's provider names; MariaDB is `mysql`). */
export type PrismaProvider = 'postgresql' | 'mysql' | 'sqlite';

const PROVIDERS: Readonly<Record<string, PrismaProvider>> = {
  postgresql: 'postgresql',
  postgres: 'postgresql',
  cockroachdb: 'postgresql',
  mysql: 'mysql',
  mariadb: 'mysql',
  sqlite: 'sqlite',
};

/**
 * The provider name a PrismaClient (or its transaction client) reports, unnormalised: its `_activeProvider`
 * (what `prisma generate` wrote), else its engine config's, else its driver adapter's `provider`.
 *
 * @example
 * ```ts
 * sniffPrismaProvider(prisma); // 'postgresql', 'mysql', 'sqlite', ... or undefined
 * ```
 */
export function sniffPrismaProvider(client: unknown): string | undefined {
  if (client === null || typeof client !== 'object') return undefined;
  const c = client as {
    _activeProvider?: unknown;
    _engineConfig?: { activeProvider?: unknown; adapter?: { provider?: unknown } };
  };
  for (const value of [
    c._activeProvider,
    c._engineConfig?.activeProvider,
    c._engineConfig?.adapter?.provider,
  ]) {
    if (typeof value === 'string') return value;
  }
  return undefined;
}

/**
 * The dialect of a PrismaClient: `explicit` (a `provider` option) wins, else {@link sniffPrismaProvider};
 * normalised (`postgres`/`cockroachdb` -> `postgresql`, `mariadb` -> `mysql`). When neither names a supported
 * database, throws what `fail` returns (`named` is undefined when nothing told).
 *
 * @example
 * ```ts
 * const provider = prismaProvider(prisma, options.provider, (named) => new MyError('INVALID_OPTIONS', `${named}`));
 * ```
 */
export function prismaProvider(
  client: unknown,
  explicit: string | undefined,
  fail: (named: string | undefined) => Error,
): PrismaProvider {
  const named = explicit ?? sniffPrismaProvider(client);
  if (named !== undefined && Object.hasOwn(PROVIDERS, named)) return PROVIDERS[named] as PrismaProvider;
  throw fail(named);
}

/** The raw-query methods of a PrismaClient (or of its transaction client) the packages' SQL adapters use. */
export interface PrismaUnsafeClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}
