// The embedded default of the demo: everything that must survive a restart in one SQLite file, through a
// PrismaClient generated for SQLite on better-sqlite3 (no service to run). Config (and so flags) through
// @app/config's Prisma store, roles and assignments through @app/permissions' Prisma store, events through
// @app/events' Prisma outbox and relay, users, sessions, rooms and messages in the demo's own tables.
// better-sqlite3 is a native addon (an optional dependency): where it cannot load, the demo runs in memory.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { closeable, type Logger } from '@app/core';
import type { EventRecord, EventTransport } from '@app/events';
import { memoryEventTransport } from '@app/events/memory';
import type { PrismaClient } from '../generated/sqlite/client/client.js';
import { SQLITE_MIGRATIONS } from '../generated/sqlite-migrations.js';
import {
  byCreation,
  MAX_MESSAGES_PER_ROOM,
  type Message,
  type MessageStore,
  newRoom,
  parse,
  type Room,
  type RoomStore,
  type Session,
  type UserStore,
} from './stores.js';

/** The SQLite-generated client (models of @app/config, @app/permissions and @app/events). */
export type SqlitePrisma = PrismaClient;

/** What {@link openSqlite} opens. */
export interface SqliteBackend {
  /** The database file (absolute). */
  file: string;
  prisma: SqlitePrisma;
  stores: { rooms: RoomStore; messages: MessageStore; users: UserStore };
  close(): Promise<void>;
}

/** The demo's own tables (users, sessions, rooms, messages), created beside the packages' ones. */
const DEMO_MIGRATION = {
  id: 'demo/sqlite/0001_init.sql',
  sql: `CREATE TABLE app_demo_users (phone TEXT NOT NULL PRIMARY KEY, user_id TEXT NOT NULL UNIQUE);
CREATE TABLE app_demo_sessions (token TEXT NOT NULL PRIMARY KEY, data TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE app_demo_rooms (id TEXT NOT NULL PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE app_demo_messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, room_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX app_demo_messages_room_idx ON app_demo_messages (room_id, seq);`,
};

const MIGRATIONS_TABLE = 'app_examples_migrations';

const statementsOf = (sql: string) =>
  sql
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);

/** Applies the migrations this file has not seen yet, each in a transaction with its row. */
async function migrate(prisma: SqlitePrisma): Promise<string[]> {
  await prisma.$executeRawUnsafe(
    `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id TEXT NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL)`,
  );
  const done = new Set(
    (await prisma.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM ${MIGRATIONS_TABLE}`)).map((r) => r.id),
  );
  const applied: string[] = [];
  for (const migration of [...SQLITE_MIGRATIONS, DEMO_MIGRATION]) {
    if (done.has(migration.id)) continue;
    await prisma.$transaction(async (tx) => {
      for (const statement of statementsOf(migration.sql)) await tx.$executeRawUnsafe(statement);
      await tx.$executeRawUnsafe(
        `INSERT INTO ${MIGRATIONS_TABLE} (id, applied_at) VALUES (?, ?)`,
        migration.id,
        new Date().toISOString(),
      );
    });
    applied.push(migration.id);
  }
  return applied;
}

type AdapterModule = typeof import('@prisma/adapter-better-sqlite3');

/**
 * The SQLite driver adapter, through Node's own `require` (from the app's directory first, then this
 * package's): a bundler (Next.js) must not bundle a native addon, and does not see this call.
 */
function loadAdapter(): AdapterModule {
  let failure: unknown;
  for (const base of [join(process.cwd(), 'package.json'), import.meta.url]) {
    try {
      return createRequire(base)('@prisma/adapter-better-sqlite3') as AdapterModule;
    } catch (error) {
      failure ??= error;
    }
  }
  throw failure;
}

/**
 * Opens (creating it and its tables when new) the demo's SQLite file. Resolves to `undefined`, after one
 * warning saying so, when the SQLite driver (better-sqlite3, a native addon) cannot load here: the caller
 * then runs in memory.
 *
 * @example
 * ```ts
 * const sqlite = await openSqlite('.data/demo.sqlite', logger);
 * ```
 */
export async function openSqlite(file: string, logger: Logger): Promise<SqliteBackend | undefined> {
  const path = resolve(file);
  let Adapter: AdapterModule['PrismaBetterSqlite3'];
  try {
    Adapter = loadAdapter().PrismaBetterSqlite3;
    // The native addon loads on first use, not on import: open a throwaway database to know now.
    const probe = await new Adapter({ url: ':memory:' }).connect();
    await probe.dispose();
  } catch (error) {
    logger.warn(
      { err: error },
      `[demo] the SQLite driver (better-sqlite3, a native addon) could not load, so the demo runs IN MEMORY: ` +
        `users, rooms, flags, config and events are lost when it stops. To keep them, make better-sqlite3 ` +
        `build (npm_config_nodedir=/usr pnpm rebuild better-sqlite3), or set REDIS_URL / DATABASE_URL.`,
    );
    return undefined;
  }
  mkdirSync(dirname(path), { recursive: true });
  const { PrismaClient } = await import('../generated/sqlite/client/client.js');
  const prisma = new PrismaClient({ adapter: new Adapter({ url: `file:${path}`, timeout: 30_000 }) });
  try {
    const applied = await migrate(prisma);
    if (applied.length > 0) logger.info({ applied, file: path }, 'created the demo database');
  } catch (error) {
    await prisma.$disconnect().catch(() => {});
    throw error;
  }
  return {
    file: path,
    prisma,
    stores: sqliteStores(prisma),
    close: () => prisma.$disconnect(),
  };
}

/** Rooms, messages, users and sessions in the demo's SQLite tables. */
export function sqliteStores(prisma: SqlitePrisma): SqliteBackend['stores'] {
  const rows = <T>(sql: string, ...values: unknown[]) => prisma.$queryRawUnsafe<T[]>(sql, ...values);
  const run = (sql: string, ...values: unknown[]) => prisma.$executeRawUnsafe(sql, ...values);
  const parsed = <T>(list: { data: string }[]) =>
    list.map((r) => parse<T>(r.data)).filter((v): v is Awaited<T> => v !== undefined) as T[];
  return {
    rooms: {
      async list() {
        return parsed<Room>(await rows('SELECT data FROM app_demo_rooms')).sort(byCreation);
      },
      async create(name, createdBy) {
        const room = newRoom(name, createdBy);
        await run('INSERT INTO app_demo_rooms (id, data) VALUES (?, ?)', room.id, JSON.stringify(room));
        return room;
      },
      async get(id) {
        return parsed<Room>(await rows('SELECT data FROM app_demo_rooms WHERE id = ?', id))[0];
      },
      async delete(id) {
        return (await run('DELETE FROM app_demo_rooms WHERE id = ?', id)) > 0;
      },
    },
    messages: {
      async list(roomId, limit = 50) {
        const newest = await rows<{ data: string }>(
          'SELECT data FROM app_demo_messages WHERE room_id = ? ORDER BY seq DESC LIMIT ?',
          roomId,
          limit,
        );
        return parsed<Message>(newest).reverse();
      },
      async add(message) {
        await prisma.$transaction(async (tx) => {
          await tx.$executeRawUnsafe(
            'INSERT INTO app_demo_messages (room_id, data) VALUES (?, ?)',
            message.roomId,
            JSON.stringify(message),
          );
          await tx.$executeRawUnsafe(
            `DELETE FROM app_demo_messages WHERE room_id = ? AND seq NOT IN
               (SELECT seq FROM app_demo_messages WHERE room_id = ? ORDER BY seq DESC LIMIT ?)`,
            message.roomId,
            message.roomId,
            MAX_MESSAGES_PER_ROOM,
          );
        });
      },
      async clear(roomId) {
        await run('DELETE FROM app_demo_messages WHERE room_id = ?', roomId);
      },
    },
    users: {
      async findOrCreate(phone) {
        const candidate = `u-${crypto.randomUUID().slice(0, 12)}`;
        // One statement decides which concurrent first sign-in creates the user.
        const created =
          (await run(
            'INSERT INTO app_demo_users (phone, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING',
            phone,
            candidate,
          )) === 1;
        if (created) return { userId: candidate, created };
        const [row] = await rows<{ user_id: string }>(
          'SELECT user_id FROM app_demo_users WHERE phone = ?',
          phone,
        );
        if (!row) throw new Error(`[@app-examples/shared] user ${phone} vanished from app_demo_users`);
        return { userId: row.user_id, created: false };
      },
      async putSession(token, session, ttlMs) {
        await run(
          'INSERT OR REPLACE INTO app_demo_sessions (token, data, expires_at) VALUES (?, ?, ?)',
          token,
          JSON.stringify(session),
          Date.now() + ttlMs,
        );
      },
      async getSession(token) {
        const found = await rows<{ data: string }>(
          'SELECT data FROM app_demo_sessions WHERE token = ? AND expires_at > ?',
          token,
          Date.now(),
        );
        return parsed<Session>(found)[0];
      },
      async deleteSession(token) {
        await run('DELETE FROM app_demo_sessions WHERE token = ?', token);
      },
    },
  };
}

/** Thrown inside the probe transaction to roll it back. */
const ROLLBACK = new Error('rollback');

/**
 * Events through @app/events' Prisma outbox in the SQLite file: a publish is a committed outbox row, a relay
 * moves rows to the in-process transport (deliveries, history), so an event published just before a stop
 * is delivered after the restart. Resolves to the plain memory transport, with a warning, when this
 * @app/events cannot write its outbox on SQLite (its SQL was PostgreSQL's before it learnt the dialects).
 *
 * @example
 * ```ts
 * const transport = await sqliteEventTransport(sqlite.prisma, logger);
 * ```
 */
export async function sqliteEventTransport(
  prisma: SqlitePrisma,
  logger: Logger,
  options: { pollIntervalMs?: number; start?: boolean } = {},
): Promise<EventTransport> {
  const inner = memoryEventTransport();
  const { prismaOutbox, prismaOutboxRelay } = await import('@app/events/prisma');
  // The dialect option of the SQLite-aware @app/events (`provider`); an older one ignores it.
  const dialect: Record<string, string> = { provider: 'sqlite' };
  const outbox = prismaOutbox(dialect);
  try {
    await prisma.$transaction(async (tx) => {
      await outbox.publish(tx, 'demo.probe', {});
      throw ROLLBACK;
    });
  } catch (error) {
    if (error !== ROLLBACK) {
      logger.warn(
        { err: error },
        '[demo] this @app/events cannot write its outbox on SQLite: events stay in memory (lost on restart)',
      );
      return inner;
    }
  }
  const relay = prismaOutboxRelay({
    prisma,
    transport: inner,
    pollIntervalMs: options.pollIntervalMs ?? 100,
    logger,
    ...dialect,
  });
  if (options.start !== false) relay.start();
  const toOutbox = (r: EventRecord) => ({
    name: r.name,
    data: JSON.parse(r.payload) as unknown,
    ...(r.source === undefined ? {} : { source: r.source }),
  });
  return closeable<Omit<EventTransport, 'close' | typeof Symbol.asyncDispose>>(
    {
      async publish(records) {
        const written = await prisma.$transaction((tx) => outbox.publishMany(tx, records.map(toOutbox)));
        return written.map((e) => `outbox:${e.id}`);
      },
      subscribe: (o) => inner.subscribe(o),
      history: (name, query) => inner.history(name, query),
      listDeadLetters: (subscription, limit) => inner.listDeadLetters(subscription, limit),
      replayDeadLetters: (subscription, ids) => inner.replayDeadLetters(subscription, ids),
    },
    async () => {
      await relay.close();
      await inner.close();
    },
  );
}
