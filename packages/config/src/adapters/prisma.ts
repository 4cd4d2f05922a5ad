import { closeable } from '@app/core';
import { ConfigError } from '../errors.js';
import type { ConfigEntry, ConfigRecord, ConfigStore, JsonValue, StoreSetOptions } from '../types.js';

/** A row of the `ConfigEntry` model (prisma/schema.prisma), as the generated client returns it. */
export interface ConfigEntryRow {
  key: string;
  value: string;
  version: bigint | number;
  deleted: boolean;
  expiresAt: Date | null;
}

/** The `prisma.configEntry` delegate: the few generated methods used. */
export interface PrismaConfigEntryDelegate {
  findUnique(args: { where: { key: string } }): PromiseLike<ConfigEntryRow | null>;
  findMany(args: {
    where: { key: { startsWith: string }; deleted: boolean };
    orderBy: { key: 'asc' };
  }): PromiseLike<ConfigEntryRow[]>;
  upsert(args: {
    where: { key: string };
    create: { key: string; value: string; version: number; deleted: boolean; expiresAt: Date | null };
    update: { value: string; version: { increment: number }; deleted: boolean; expiresAt: Date | null };
  }): PromiseLike<ConfigEntryRow>;
  update(args: {
    where: { key: string; deleted: boolean };
    data: { version: { increment: number }; deleted: boolean; value: string; expiresAt: null };
  }): PromiseLike<ConfigEntryRow>;
}

/** Your PrismaClient (any generated client with the `ConfigEntry` model, extended clients included). */
export interface PrismaConfigClientLike {
  configEntry: PrismaConfigEntryDelegate;
}

/** Options of {@link prismaConfigStore}. */
export interface PrismaConfigStoreOptions {
  /** Your PrismaClient. It stays yours: the store never disconnects it. */
  prisma: PrismaConfigClientLike;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function toRecord(row: ConfigEntryRow): ConfigRecord {
  const version = Number(row.version);
  if (row.deleted) return { key: row.key, version, deleted: true };
  let value: JsonValue;
  try {
    value = JSON.parse(row.value) as JsonValue;
  } catch (error) {
    throw new ConfigError('STORE_ERROR', `corrupt JSON in app_config_entries for '${row.key}'`, {
      cause: error,
    });
  }
  return {
    key: row.key,
    value,
    version,
    expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
    deleted: false,
  };
}

/**
 * A {@link ConfigStore} in your SQL database through your PrismaClient, with the `ConfigEntry` model from
 * `@app/config`'s `prisma/schema.prisma` (table `app_config_entries`). A `set` is one native upsert that
 * increments the version; a `delete` is one conditional update that turns the row into a tombstone.
 * `close()` releases nothing of yours: the PrismaClient stays connected.
 *
 * @example
 * ```ts
 * import { PrismaClient } from './generated/prisma/client';
 * import { prismaConfigStore } from '@app/config/prisma';
 *
 * const store = prismaConfigStore({ prisma: new PrismaClient({ adapter }) });
 * ```
 */
export function prismaConfigStore(options: PrismaConfigStoreOptions): ConfigStore {
  const delegate = options?.prisma?.configEntry;
  if (typeof delegate?.upsert !== 'function') {
    throw new ConfigError(
      'INVALID_OPTIONS',
      "prismaConfigStore: option 'prisma' must be a PrismaClient with the ConfigEntry model (see prisma/schema.prisma)",
    );
  }

  async function upsert(key: string, value: string, expiresAt: Date | null): Promise<ConfigEntryRow> {
    const args = {
      where: { key },
      create: { key, value, version: 1, deleted: false, expiresAt },
      update: { value, version: { increment: 1 }, deleted: false, expiresAt },
    };
    try {
      return await delegate.upsert(args);
    } catch (error) {
      // Should Prisma ever fall back to select-then-insert, two first writers race on the insert: the loser
      // retries, and its retry is an update.
      if (errorCode(error) === 'P2002') return delegate.upsert(args);
      throw error;
    }
  }

  return closeable({
    async get(key: string) {
      const row = await delegate.findUnique({ where: { key } });
      return row ? toRecord(row) : undefined;
    },
    async set(key: string, value: JsonValue, setOptions?: StoreSetOptions) {
      const expiresAt = setOptions?.expiresAt ?? null;
      const row = await upsert(key, JSON.stringify(value), expiresAt === null ? null : new Date(expiresAt));
      return toRecord(row) as ConfigEntry;
    },
    async delete(key: string) {
      try {
        const row = await delegate.update({
          where: { key, deleted: false },
          data: { version: { increment: 1 }, deleted: true, value: 'null', expiresAt: null },
        });
        return { key, version: Number(row.version), deleted: true };
      } catch (error) {
        if (errorCode(error) === 'P2025') return undefined; // no live row
        throw error;
      }
    },
    async list(prefix: string) {
      const rows = await delegate.findMany({
        where: { key: { startsWith: prefix }, deleted: false },
        orderBy: { key: 'asc' },
      });
      return rows.map((row) => toRecord(row) as ConfigEntry);
    },
  });
}
