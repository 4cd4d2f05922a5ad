// The outbox's SQL for each database Prisma runs on. The statements differ; the guarantees do not: a row is
// written only with its transaction, and two relays never hold the same row.
import { EventsError, EventsErrorCode } from '../errors.js';
import type { EventRecord } from '../types.js';

/** The databases the outbox runs on (Prisma's provider names; MariaDB is `mysql`). */
export type OutboxProvider = 'postgresql' | 'mysql' | 'sqlite';

const PROVIDERS: Record<string, OutboxProvider> = {
  postgresql: 'postgresql',
  postgres: 'postgresql',
  cockroachdb: 'postgresql',
  mysql: 'mysql',
  mariadb: 'mysql',
  sqlite: 'sqlite',
};

/**
 * The provider of a PrismaClient (or of its transaction client `tx`): an explicit `provider` option wins,
 * else the client's own `_activeProvider` (what `prisma generate` wrote), else its driver adapter's
 * `provider`. INVALID_OPTIONS when none tells.
 */
export function providerOf(client: unknown, explicit: string | undefined): OutboxProvider {
  const named = explicit ?? sniffProvider(client);
  const provider = named === undefined ? undefined : PROVIDERS[named];
  if (provider === undefined) {
    throw new EventsError(
      EventsErrorCode.INVALID_OPTIONS,
      named === undefined
        ? 'cannot tell which database this Prisma client uses: pass { provider: "postgresql" | "mysql" | "sqlite" }'
        : `unsupported outbox provider ${JSON.stringify(named)} (postgresql, mysql or sqlite)`,
    );
  }
  return provider;
}

function sniffProvider(client: unknown): string | undefined {
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

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/** Checks a table name (optionally schema-qualified) before any SQL is built with it. */
export function checkTable(table: string): string {
  if (typeof table !== 'string' || !IDENTIFIER.test(table)) {
    throw new EventsError(
      EventsErrorCode.INVALID_OPTIONS,
      `invalid outbox table name ${JSON.stringify(table)}`,
    );
  }
  return table;
}

function quote(provider: OutboxProvider, table: string): string {
  const q = provider === 'mysql' ? '`' : '"';
  return table
    .split('.')
    .map((part) => `${q}${part}${q}`)
    .join('.');
}

/** A statement and its parameters. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/** Rows per INSERT on MySQL and SQLite (6 placeholders each: well under both databases' limits). */
const INSERT_CHUNK = 500;

/** The INSERT statements writing `records` (one on PostgreSQL, one per 500 rows elsewhere). */
export function insertStatements(
  provider: OutboxProvider,
  table: string,
  records: readonly EventRecord[],
): Statement[] {
  const t = quote(provider, table);
  const headers = (r: EventRecord) => (r.headers === undefined ? null : JSON.stringify(r.headers));
  const createdAt = new Date(records[0]!.timestamp);
  if (provider === 'postgresql') {
    return [
      {
        sql: `INSERT INTO ${t} (id, name, payload, source, headers, created_at)
         SELECT id, name, payload::jsonb, source, headers::jsonb, $6
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(id, name, payload, source, headers)`,
        params: [
          records.map((r) => r.id),
          records.map((r) => r.name),
          records.map((r) => r.payload),
          records.map((r) => r.source ?? null),
          records.map(headers),
          createdAt,
        ],
      },
    ];
  }
  const out: Statement[] = [];
  for (let start = 0; start < records.length; start += INSERT_CHUNK) {
    const chunk = records.slice(start, start + INSERT_CHUNK);
    out.push({
      sql: `INSERT INTO ${t} (id, name, payload, source, headers, created_at) VALUES ${chunk
        .map(() => '(?, ?, ?, ?, ?, ?)')
        .join(', ')}`,
      params: chunk.flatMap((r) => [r.id, r.name, r.payload, r.source ?? null, headers(r), createdAt]),
    });
  }
  return out;
}

/**
 * How a relay takes a batch inside its transaction. `claim` returns the rows; `remove` (absent when the
 * claim already deleted them) deletes them before the transaction commits.
 *
 * - PostgreSQL and MariaDB 10.6+ / MySQL 8: `SELECT ... ORDER BY seq LIMIT n FOR UPDATE SKIP LOCKED`. The
 *   rows are row-locked by this transaction until it commits; another relay's identical SELECT skips them
 *   and takes the next ones, so no row is held by two relays. The DELETE runs in the same transaction, so
 *   the rows disappear exactly when the batch commits; a relay that dies rolls back and leaves them to the
 *   next one. (On MySQL the relay runs at READ COMMITTED: no gap locks, so business transactions can go on
 *   inserting outbox rows while a batch is being published.)
 * - SQLite has one writer at a time and no row locks: the claim is `DELETE ... WHERE seq IN (SELECT ...
 *   LIMIT n) RETURNING ...` as the transaction's FIRST statement. A write statement takes the database's
 *   write lock before it reads, so the rows it returns are read and deleted under that lock; a second
 *   relay's claim waits for the lock (the busy timeout) and then sees the rows gone (committed) or back
 *   (rolled back after a failed publish or a crash). No row is returned to two relays.
 */
export interface ClaimSql {
  claim: Statement;
  remove?: (seqs: ReadonlyArray<OutboxRow['seq']>) => Statement;
}

/** One claimed row as the driver returns it. */
export interface OutboxRow {
  seq: bigint | number | string;
  id: string;
  name: string;
  payload: unknown;
  source: string | null;
  headers: unknown;
  created_at: Date | string | number;
}

export function claimSql(provider: OutboxProvider, table: string, batchSize: number): ClaimSql {
  const t = quote(provider, table);
  if (provider === 'postgresql') {
    return {
      claim: {
        sql: `SELECT seq, id, name, payload::text AS payload, source, headers::text AS headers, created_at
                FROM ${t} ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        params: [batchSize],
      },
      remove: (seqs) => ({
        sql: `DELETE FROM ${t} WHERE seq = ANY($1::bigint[])`,
        params: [seqs.map(String)],
      }),
    };
  }
  if (provider === 'mysql') {
    return {
      claim: {
        sql: `SELECT seq, id, name, payload, source, headers, created_at
                FROM ${t} ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED`,
        params: [batchSize],
      },
      remove: (seqs) => ({
        sql: `DELETE FROM ${t} WHERE seq IN (${seqs.map(() => '?').join(', ')})`,
        params: seqs.map(String),
      }),
    };
  }
  return {
    claim: {
      sql: `DELETE FROM ${t} WHERE seq IN (SELECT seq FROM ${t} ORDER BY seq LIMIT ?)
              RETURNING seq, id, name, CAST(payload AS TEXT) AS payload, source, CAST(headers AS TEXT) AS headers, created_at`,
      params: [batchSize],
    },
  };
}

/** JSON text of a JSON column, whether the driver returned text or parsed it. */
function jsonText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function headersOf(value: unknown): Record<string, string> | undefined {
  if (value === null || value === undefined) return undefined;
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') headers[k] = v;
  return headers;
}

/** A timestamp column in ms: a Date, epoch ms, or text (a zone-less MySQL DATETIME is UTC, as written). */
function msOf(value: Date | string | number): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  const text = String(value);
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/.test(text) ? text : `${text.replace(' ', 'T')}Z`;
  return Date.parse(zoned);
}

/** A claimed row as the record the transport stores: the id, timestamp and headers it was written with. */
export function rowRecord(row: OutboxRow): EventRecord {
  const headers = headersOf(row.headers);
  return {
    id: row.id,
    name: row.name,
    payload: jsonText(row.payload),
    timestamp: msOf(row.created_at),
    ...(row.source === null || row.source === undefined ? {} : { source: row.source }),
    ...(headers === undefined ? {} : { headers }),
  };
}

/** Claimed rows in outbox order (SQLite's RETURNING promises no order). */
export function bySeq(rows: OutboxRow[]): OutboxRow[] {
  return rows.sort((a, b) => {
    const d = BigInt(a.seq) - BigInt(b.seq);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  });
}
