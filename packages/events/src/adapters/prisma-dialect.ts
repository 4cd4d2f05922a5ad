// The outbox's SQL for each database Prisma runs on. The statements differ; the guarantees do not: a row is
// written only with its transaction, and two relays never hold the same row.
import { type PrismaProvider, prismaProvider } from '@app/core';
import { EventsError, EventsErrorCode } from '../errors.js';
import type { EventRecord } from '../types.js';

/** The databases the outbox runs on (Prisma's provider names; MariaDB is `mysql`). */
export type OutboxProvider = PrismaProvider;

/**
 * The provider of a PrismaClient (or of its transaction client `tx`): an explicit `provider` option wins,
 * else the client's own `_activeProvider` (what `prisma generate` wrote), else its driver adapter's
 * `provider`. INVALID_OPTIONS when none tells.
 */
export function providerOf(client: unknown, explicit: string | undefined): OutboxProvider {
  return prismaProvider(
    client,
    explicit,
    (named) =>
      new EventsError(
        EventsErrorCode.INVALID_OPTIONS,
        named === undefined
          ? 'cannot tell which database this Prisma client uses: pass { provider: "postgresql" | "mysql" | "sqlite" }'
          : `unsupported outbox provider ${JSON.stringify(named)} (postgresql, mysql or sqlite)`,
      ),
  );
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
 * How a relay takes a batch.
 *
 * - `locked` (PostgreSQL, MariaDB 10.6+ / MySQL 8), inside one transaction: `SELECT ... ORDER BY seq LIMIT n
 *   FOR UPDATE SKIP LOCKED`. The rows are row-locked by this transaction until it commits; another relay's
 *   identical SELECT skips them and takes the next ones, so no row is held by two relays. The DELETE runs in
 *   the same transaction, so the rows disappear exactly when the batch commits; a relay that dies rolls
 *   back and leaves them to the next one. (On MySQL the relay runs at READ COMMITTED: no gap locks, so
 *   business transactions go on inserting outbox rows while a batch is published; and it deletes by
 *   primary key, row by row.)
 * - `leased` (SQLite): one writer at a time, no row locks, and a Prisma SQLite client runs every statement
 *   on ONE connection, so no transaction may stay open across the publish (the app's own statements would
 *   join it). The claim is one statement, `UPDATE ... SET claim_token = <uuid>, claim_expires_at = <lease end>
 *   WHERE seq IN (SELECT seq ... WHERE claim_token IS NULL OR claim_expires_at < <now> ... LIMIT n)
 *   RETURNING ...`: SQLite runs a statement under the database's single write lock, so its subquery and its
 *   update see and change the rows with no other writer in between, and a row is returned to one relay
 *   only. The batch is published, then `DELETE ... WHERE claim_token = <uuid>`. A failed publish clears the
 *   claim; a relay that dies leaves it to expire (the lease is `transactionTimeoutMs`), after which the next
 *   relay takes the rows (published again: at-least-once, as everywhere).
 */
export type ClaimSql =
  | {
      kind: 'locked';
      claim: Statement;
      remove(seqs: ReadonlyArray<OutboxRow['seq']>): Statement[];
    }
  | {
      kind: 'leased';
      claim(token: string, now: number, leaseMs: number): Statement;
      remove(token: string): Statement;
      release(token: string): Statement;
    };

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

/** The claim statements of `provider` (see {@link ClaimSql}). */
export function claimSql(provider: OutboxProvider, table: string, batchSize: number): ClaimSql {
  const t = quote(provider, table);
  if (provider === 'postgresql') {
    return {
      kind: 'locked',
      claim: {
        sql: `SELECT seq, id, name, payload::text AS payload, source, headers::text AS headers, created_at
                FROM ${t} ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        params: [batchSize],
      },
      remove: (seqs) => [
        { sql: `DELETE FROM ${t} WHERE seq = ANY($1::bigint[])`, params: [seqs.map(String)] },
      ],
    };
  }
  if (provider === 'mysql') {
    return {
      kind: 'locked',
      claim: {
        sql: `SELECT seq, id, name, payload, source, headers, created_at
                FROM ${t} ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED`,
        params: [batchSize],
      },
      // One DELETE per row, by primary key: a const lookup locks that row and nothing else. One statement
      // for the batch (seq IN (...)) range-scans, and MariaDB then waits on the row past each range, which
      // another relay may hold: a deadlock.
      remove: (seqs) => seqs.map((seq) => ({ sql: `DELETE FROM ${t} WHERE seq = ?`, params: [BigInt(seq)] })),
    };
  }
  return {
    kind: 'leased',
    claim: (token, now, leaseMs) => ({
      sql: `UPDATE ${t} SET claim_token = ?, claim_expires_at = ?
              WHERE seq IN (SELECT seq FROM ${t} WHERE claim_token IS NULL OR claim_expires_at < ? ORDER BY seq LIMIT ?)
              RETURNING seq, id, name, CAST(payload AS TEXT) AS payload, source, CAST(headers AS TEXT) AS headers, created_at`,
      params: [token, now + leaseMs, now, batchSize],
    }),
    remove: (token) => ({ sql: `DELETE FROM ${t} WHERE claim_token = ?`, params: [token] }),
    release: (token) => ({
      sql: `UPDATE ${t} SET claim_token = NULL, claim_expires_at = NULL WHERE claim_token = ?`,
      params: [token],
    }),
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
