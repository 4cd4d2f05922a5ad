import { randomUUID } from 'node:crypto';
import { closeable } from '@app/core';
import {
  DeliveryError,
  DeliveryErrorCode,
  type IdempotencyRecord,
  type IdempotencyReservation,
  type IdempotencyStore,
} from '@app/delivery';

/** The one method used: `pg`'s Pool and Client fit, and so does any driver with the same shape. */
export interface SqlClient {
  query<R>(text: string, values: unknown[]): Promise<{ rows: R[] }>;
}

export interface PgIdempotencyStoreOptions {
  /** Your pool or client. The store never ends it. */
  client: SqlClient;
  /** The table, created by your migration. @default 'idempotency' */
  table?: string;
}

/**
 * CREATE TABLE idempotency (
 *   key TEXT PRIMARY KEY, token TEXT, fingerprint TEXT NOT NULL,
 *   result JSONB, expires_at TIMESTAMPTZ NOT NULL);
 */
export function pgIdempotencyStore(options: PgIdempotencyStoreOptions): IdempotencyStore {
  // Bad options fail here, when the store is built, before any I/O.
  if (typeof options?.client?.query !== 'function') {
    throw new DeliveryError(
      DeliveryErrorCode.INVALID_OPTIONS,
      'pgIdempotencyStore: `client` must have query()',
    );
  }
  const table = options.table ?? 'idempotency';
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) {
    throw new DeliveryError(
      DeliveryErrorCode.INVALID_OPTIONS,
      `pgIdempotencyStore: invalid table '${table}'`,
    );
  }
  const { client } = options;

  // closeable() adds close() (once) and [Symbol.asyncDispose]; the pool is yours, so nothing to free.
  return closeable({
    async reserve(key: string, fingerprint: string, lockMs: number): Promise<IdempotencyReservation> {
      const token = randomUUID();
      for (;;) {
        // One statement: insert, or take over an expired reservation. Of N concurrent callers, one wins.
        const won = await client.query<{ token: string }>(
          `INSERT INTO ${table} (key, token, fingerprint, result, expires_at)
           VALUES ($1, $2, $3, NULL, now() + $4 * interval '1 millisecond')
           ON CONFLICT (key) DO UPDATE
             SET token = EXCLUDED.token, fingerprint = EXCLUDED.fingerprint, result = NULL,
                 expires_at = EXCLUDED.expires_at
             WHERE ${table}.expires_at <= now()
           RETURNING token`,
          [key, token, fingerprint, lockMs],
        );
        if (won.rows[0]?.token === token) return { acquired: true, token };
        const held = await client.query<{ fingerprint: string; result: unknown }>(
          `SELECT fingerprint, result FROM ${table} WHERE key = $1 AND expires_at > now()`,
          [key],
        );
        const row = held.rows[0];
        if (!row) continue; // released or expired in between: try again
        const existing: IdempotencyRecord =
          row.result === null
            ? { state: 'pending', fingerprint: row.fingerprint }
            : { state: 'done', fingerprint: row.fingerprint, result: row.result };
        return { acquired: false, existing };
      }
    },
    async complete(key: string, token: string, result: unknown, ttlMs: number) {
      // Only the holder's token writes, and only while its reservation is live.
      await client.query(
        `UPDATE ${table} SET token = NULL, result = $3, expires_at = now() + $4 * interval '1 millisecond'
         WHERE key = $1 AND token = $2 AND expires_at > now()`,
        [key, token, JSON.stringify(result ?? null), ttlMs],
      );
    },
    async release(key: string, token: string) {
      await client.query(`DELETE FROM ${table} WHERE key = $1 AND token = $2`, [key, token]);
    },
  });
}
