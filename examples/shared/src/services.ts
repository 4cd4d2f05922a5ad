import { randomBytes, randomUUID } from 'node:crypto';
import { type ConfigService, type ConfigStore, type ConfigSync, createConfigService } from '@app/config';
import { memoryConfigStore } from '@app/config/memory';
import { countEvaluations } from '@app/console';
import { type Closeable, closeable, type EventSink, type Logger, silentLogger } from '@app/core';
import { type Container, createContainer, createToken } from '@app/di';
import {
  createEmailService,
  type EmailIdempotencyStore,
  type EmailProvider,
  type EmailService,
} from '@app/email';
import {
  type MemoryEmailProvider,
  memoryEmailIdempotencyStore,
  memoryEmailProvider,
} from '@app/email/memory';
import { createEventBus, type EventBus, type EventTransport, type Subscription } from '@app/events';
import { memoryEventTransport } from '@app/events/memory';
import { createFlags, type FlagDefinition, type Flags, setFlag } from '@app/flags';
import {
  createOtpService,
  emailChannel,
  normalizeDestination,
  OtpError,
  OtpErrorCode,
  type OtpService,
  type OtpStore,
  smsChannel,
} from '@app/otp';
import { memoryOtpStore } from '@app/otp/memory';
import {
  createPermissionService,
  type PermissionCache,
  type PermissionService,
  type PermissionStore,
} from '@app/permissions';
import { memoryPermissionStore } from '@app/permissions/memory';
import { createSmsService, type SmsService } from '@app/sms';
import { memorySmsProvider } from '@app/sms/memory';
import type { Redis } from 'ioredis';
import { APP_EVENT_NAMES, type AppEvents } from './events.js';
import { registerEventHandlers } from './handlers.js';
import { type AppConfigSchemas, CONFIG_SCHEMAS, type EMAIL_PROVIDERS } from './schemas.js';
import {
  type Message,
  type MessageStore,
  memoryStores,
  type RoomStore,
  redisStores,
  type Session,
  type UserStore,
} from './stores.js';

/** Options of {@link createServices}. */
export interface AppServicesOptions {
  /**
   * Redis URL. When set: config cache and change notifications (and the config store when there is no
   * database), events on Redis Streams, the OTP store (when there is no database), the permissions cache,
   * rooms, users and sessions; flags follow config changes made on any instance.
   * @default undefined (everything in memory)
   */
  redisUrl?: string;
  /**
   * Postgres URL. When set: config, OTP challenges and permissions live in Postgres through Prisma (pg driver
   * adapter); the packages' SQL migrations are applied at startup, once (tracked in `app_examples_migrations`).
   * @default undefined
   */
  databaseUrl?: string;
  /**
   * Where state lives when neither `redisUrl` nor `databaseUrl` is given: `memory` (lost on stop) or
   * `sqlite` (one file, {@link AppServicesOptions.sqliteFile}: users, sessions, rooms, messages, config and
   * flags, permissions, and the event outbox survive a restart). Without a loadable SQLite driver
   * (better-sqlite3 is a native addon), `sqlite` falls back to memory with a warning.
   * @default 'memory' ({@link servicesFromEnv}: APP_STORAGE; the chat demo defaults it to `sqlite`)
   */
  storage?: 'memory' | 'sqlite';
  /** The SQLite file of `storage: 'sqlite'` (created with its tables when missing). @default '.data/demo.sqlite' */
  sqliteFile?: string;
  /** The Postgres schema for the tables (created if missing); tests give each file its own. @default 'public' */
  databaseSchema?: string;
  /** Prefix of every Redis key. Instances sharing it share state. @default 'chat:' */
  keyPrefix?: string;
  /** Shown in the UI and logs, so two instances can be told apart. @default String(process.pid) */
  instanceName?: string;
  /** The OTP HMAC key, at least 32 bytes. @default a fixed development secret (with a loud warning in production) */
  otpSecret?: string;
  /** Seconds between two codes to one phone number. @default 30 */
  otpResendCooldownSeconds?: number;
  /** How long a session lasts, in ms. @default 604800000 (7 days) */
  sessionTtlMs?: number;
  /** pino-shaped logger handed to every service. @default silent ({@link servicesFromEnv}: warnings and errors to the console) */
  logger?: Logger;
}

/** One email as the memory providers received it. */
export interface OutboxEmail {
  /** `ses` or `sendgrid`: which provider the message went through. */
  provider: string;
  to: string;
  subject: string;
  /** ISO 8601. */
  at: string;
}

/** One text message as the memory SMS provider received it. */
export interface OutboxSms {
  to: string;
  body: string;
  /** ISO 8601. */
  at: string;
}

/** An entry of {@link AppServices.eventLog}. */
export interface EventLogEntry {
  id: string;
  name: string;
  data: unknown;
  /** ISO 8601. */
  at: string;
}

/** Sign-in by one-time code, and sessions. */
export interface AuthService {
  /**
   * Sends a login code by SMS. Throws `OtpError` (`INVALID_DESTINATION` for a number without country code)
   * and `RateLimitedError` (with `retryAfterMs`) from `@app/otp`.
   */
  sendCode(phone: string, ip?: string): Promise<{ challengeId: string; expiresAt: string }>;
  /**
   * Checks a code. On success creates a session (`token`); the first sign-in of a phone number creates the
   * user, assigns it the `member` role and publishes `user.registered`.
   */
  verifyCode(
    phone: string,
    code: string,
    challengeId?: string,
  ): Promise<{ ok: true; token: string; userId: string } | { ok: false; reason: string }>;
  /** The session of a token, or `undefined` (unknown, expired, signed out, or no token). */
  session(token: string | undefined): Promise<Session | undefined>;
  signOut(token: string): Promise<void>;
}

/** The messages of rooms. */
export interface MessagesService {
  /** The latest `limit` messages of a room, oldest first. @default limit 50 */
  list(roomId: string, limit?: number): Promise<Message[]>;
  /** Stores a message and publishes `message.sent`. Check `message:send` before calling it. */
  send(roomId: string, userId: string, text: string): Promise<Message>;
}

/** Everything the example apps use, built by {@link createServices}. */
export interface AppServices {
  /** The @app/di container holding every service below under {@link TOKENS}. */
  container: Container;
  /** Which instance this is. */
  instanceName: string;
  /** The logger every service was given ({@link AppServicesOptions.logger}); the apps log unexpected errors to it. */
  logger: Logger;
  /** Where state lives: `memory`, `sqlite`, or `redis` / `postgres` / `redis+postgres`. */
  mode: string;
  config: ConfigService<AppConfigSchemas>;
  events: EventBus<AppEvents>;
  /** The provider is read from config key `email.provider` ('ses' | 'sendgrid') at every send. */
  email: EmailService;
  /** Every email the memory providers received, newest first. */
  emailOutbox(): OutboxEmail[];
  sms: SmsService;
  /** Every text the memory SMS provider received, newest first. */
  smsOutbox(): OutboxSms[];
  otp: OtpService;
  permissions: PermissionService;
  flags: Flags;
  /** Rooms. `create` makes the creator the owner of the new room (so its creator may delete it) and publishes `room.created`. */
  rooms: RoomStore;
  messages: MessagesService;
  auth: AuthService;
  /** Makes `userId` the owner of one room: `permissions.assign(userId, 'owner', { resource: { type: 'room', id } })`. */
  grantRoomOwner(userId: string, roomId: string): Promise<void>;
  /** The latest events of every {@link AppEvents} name, newest first. @default limit 50 */
  eventLog(limit?: number): Promise<EventLogEntry[]>;
  /** Closes everything (the container disposes in reverse creation order), then the clients. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The typed @app/di tokens under which {@link createServices} registers each service. */
export const TOKENS = {
  logger: createToken<Logger>('logger'),
  config: createToken<ConfigService<AppConfigSchemas>>('config'),
  events: createToken<EventBus<AppEvents>>('events'),
  emailProviders:
    createToken<Record<(typeof EMAIL_PROVIDERS)[number], MemoryEmailProvider>>('emailProviders'),
  email: createToken<EmailService>('email'),
  smsProvider: createToken<ReturnType<typeof memorySmsProvider>>('smsProvider'),
  sms: createToken<SmsService>('sms'),
  otp: createToken<OtpService>('otp'),
  permissions: createToken<PermissionService>('permissions'),
  flags: createToken<Flags>('flags'),
  rooms: createToken<RoomStore>('rooms'),
  messages: createToken<MessagesService>('messages'),
  auth: createToken<AuthService>('auth'),
  eventHandlers: createToken<Subscription[]>('eventHandlers'),
} as const;

/** The roles seeded at startup: `permission` lists, and inheritance. */
export const ROLES = {
  member: { grants: ['room:read', 'room:create', 'message:send'], inherits: [] },
  owner: { grants: ['room:*'], inherits: ['member'] },
  admin: { grants: ['*:*'], inherits: [] },
} as const satisfies Record<string, { grants: readonly string[]; inherits: readonly string[] }>;

/** The flags seeded at startup when absent. */
export const SEEDED_FLAGS: Readonly<Record<string, FlagDefinition>> = {
  'new-chat-ui': { enabled: false, description: 'The redesigned chat screen' },
  'typing-indicators': { enabled: true, rollout: 50, description: 'Show who is typing' },
};

/** The development OTP secret used when none is given. Never use it in production. */
export const DEV_OTP_SECRET = 'dev-only-otp-secret-change-me-0123456789abcdef';

const LOGIN = 'login';

interface Backends {
  /** `sqlite` when the SQLite file holds the state. */
  mode?: string;
  redis?: Redis;
  prisma?: { $disconnect(): Promise<void> };
  configStore: ConfigStore;
  configSync?: ConfigSync;
  transport: EventTransport;
  otpStore: OtpStore;
  permissionStore: PermissionStore;
  permissionCache?: PermissionCache;
  emailIdempotency: EmailIdempotencyStore;
  stores: { rooms: RoomStore; messages: MessageStore; users: UserStore };
}

async function connectBackends(
  options: AppServicesOptions,
  keyPrefix: string,
  logger: Logger,
): Promise<Backends> {
  let redis: Redis | undefined;
  let prisma: Backends['prisma'];
  const backends: Partial<Backends> = {};
  try {
    if (options.storage === 'sqlite' && !options.redisUrl && !options.databaseUrl) {
      const sqlite = await connectSqlite(options.sqliteFile ?? '.data/demo.sqlite', logger);
      if (sqlite) return sqlite;
    }
    if (options.redisUrl) {
      const { Redis } = await import('ioredis');
      redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
      redis.on('error', (error: unknown) => logger.warn({ err: error }, 'redis connection error'));
      await redis.connect();
      backends.redis = redis;
    }
    if (options.databaseUrl) {
      const { applyMigrations } = await import('./migrate.js');
      const applied = await applyMigrations({
        databaseUrl: options.databaseUrl,
        ...(options.databaseSchema ? { schema: options.databaseSchema } : {}),
      });
      if (applied.length > 0) logger.info({ applied }, 'applied database migrations');
      const { createPrisma } = await import('./prisma.js');
      const client = createPrisma(options.databaseUrl, options.databaseSchema);
      prisma = client;
      backends.prisma = client;
      const [{ prismaConfigStore }, { prismaOtpStore }, { prismaPermissionStore }] = await Promise.all([
        import('@app/config/prisma'),
        import('@app/otp/prisma'),
        import('@app/permissions/prisma'),
      ]);
      backends.configStore = prismaConfigStore({ prisma: client });
      backends.otpStore = prismaOtpStore({ prisma: client });
      backends.permissionStore = prismaPermissionStore({ prisma: client });
    }
    if (redis) {
      const [{ redisConfigStore, redisConfigSync }, { redisEventTransport }, { redisOtpStore }, perm, email] =
        await Promise.all([
          import('@app/config/redis'),
          import('@app/events/redis'),
          import('@app/otp/redis'),
          import('@app/permissions/redis'),
          import('@app/email/redis'),
        ]);
      backends.configStore ??= redisConfigStore({ client: redis, keyPrefix: `${keyPrefix}config:` });
      backends.configSync = redisConfigSync({ client: redis, keyPrefix: `${keyPrefix}config:`, logger });
      backends.transport = redisEventTransport({ client: redis, keyPrefix: `${keyPrefix}events:`, logger });
      backends.otpStore ??= redisOtpStore({ client: redis, keyPrefix: `${keyPrefix}otp:` });
      backends.permissionCache = perm.redisPermissionCache({
        client: redis,
        keyPrefix: `${keyPrefix}perm:`,
        logger,
      });
      backends.emailIdempotency = email.redisEmailIdempotencyStore({
        client: redis,
        keyPrefix: `${keyPrefix}email:`,
      });
      backends.stores = redisStores(redis, keyPrefix);
    }
  } catch (error) {
    redis?.disconnect();
    await prisma?.$disconnect().catch(() => {});
    throw error;
  }
  return {
    ...backends,
    configStore: backends.configStore ?? memoryConfigStore(),
    transport: backends.transport ?? memoryEventTransport(),
    otpStore: backends.otpStore ?? memoryOtpStore(),
    permissionStore: backends.permissionStore ?? memoryPermissionStore(),
    emailIdempotency: backends.emailIdempotency ?? memoryEmailIdempotencyStore(),
    stores: backends.stores ?? memoryStores(),
  };
}

/** The SQLite backends (see sqlite.ts), or `undefined` when the driver cannot load (then: memory). */
async function connectSqlite(file: string, logger: Logger): Promise<Backends | undefined> {
  const { openSqlite, sqliteEventTransport } = await import('./sqlite.js');
  const sqlite = await openSqlite(file, logger);
  if (!sqlite) return undefined;
  try {
    const [{ prismaConfigStore }, { prismaPermissionStore }] = await Promise.all([
      import('@app/config/prisma'),
      import('@app/permissions/prisma'),
    ]);
    return {
      mode: 'sqlite',
      prisma: sqlite.prisma,
      configStore: prismaConfigStore({ prisma: sqlite.prisma }),
      permissionStore: prismaPermissionStore({ prisma: sqlite.prisma }),
      transport: await sqliteEventTransport(sqlite.prisma, logger),
      otpStore: memoryOtpStore(),
      emailIdempotency: memoryEmailIdempotencyStore(),
      stores: sqlite.stores,
    };
  } catch (error) {
    await sqlite.close().catch(() => {});
    throw error;
  }
}

/** Adapts the typed bus to `EventSink`, for the services that publish their own events (names in AppEvents). */
function sinkOf(events: EventBus<AppEvents>): EventSink {
  return {
    publish: (event, data, source) =>
      (events as unknown as EventBus<Record<string, Record<string, unknown>>>).publish(event, data, source),
  };
}

/** The providers as the email service sees them: each accepted message id is appended to `sequence`. */
function recording(
  providers: Record<string, MemoryEmailProvider>,
  sequence: string[],
): Record<string, EmailProvider> {
  const note = (id: string) => {
    sequence.push(id);
    if (sequence.length > MAX_OUTBOX) sequence.splice(0, sequence.length - MAX_OUTBOX);
  };
  return Object.fromEntries(
    Object.entries(providers).map(([name, provider]) => [
      name,
      closeable<Omit<EmailProvider, keyof Closeable>>(
        {
          name: provider.name,
          maxBulkSize: provider.maxBulkSize,
          async send(message, options) {
            const result = await provider.send(message, options);
            note(result.id);
            return result;
          },
          async sendBulk(batch, options) {
            const results = await provider.sendBulk!(batch, options);
            for (const item of results) if (item.ok) note(item.id);
            return results;
          },
          getStatus: (id) => provider.getStatus!(id),
        },
        () => provider.close(),
      ),
    ]),
  );
}

const MAX_OUTBOX = 10_000;

function demoEmailOf(userId: string): string {
  return `${userId}@users.example.com`;
}

/**
 * Builds every service of the example apps, registered in an @app/di container, and seeds roles, flags and
 * config (idempotently). In memory by default; on Redis and/or Postgres when their URLs are given, in which
 * case instances sharing them share everything (a flag flipped on one is seen by the others).
 *
 * @example
 * ```ts
 * import { createServices } from '@app-examples/shared';
 *
 * const app = await createServices();
 * const { challengeId } = await app.auth.sendCode('+14155550123');
 * const code = app.smsOutbox()[0]!.body.match(/\d{6}/)![0];
 * const signedIn = await app.auth.verifyCode('+14155550123', code, challengeId);
 * await app.close();
 * ```
 */
export async function createServices(options: AppServicesOptions = {}): Promise<AppServices> {
  const logger = options.logger ?? silentLogger;
  const keyPrefix = options.keyPrefix ?? 'chat:';
  const instanceName = options.instanceName ?? String(process.pid);
  const sessionTtlMs = options.sessionTtlMs ?? 7 * 24 * 3600 * 1000;
  let otpSecret = options.otpSecret;
  if (!otpSecret) {
    otpSecret = DEV_OTP_SECRET;
    if (process.env.NODE_ENV === 'production') {
      console.warn(
        '\n!!! [@app-examples/shared] OTP_SECRET is not set: using the PUBLIC development secret, so stored code\n' +
          '!!! hashes and send limits are keyed with a known value. Set OTP_SECRET (at least 32 random bytes).\n',
      );
    }
  }
  const storageMode =
    [options.redisUrl && 'redis', options.databaseUrl && 'postgres'].filter(Boolean).join('+') || 'memory';

  const backends = await connectBackends(options, keyPrefix, logger);
  const { stores } = backends;
  const mode = backends.mode ?? storageMode;
  const container = createContainer({ logger });
  /** Ids of the emails the memory providers accepted, in order across both (their clocks tie within a ms). */
  const emailSequence: string[] = [];
  const singleton = 'singleton' as const;

  container.register(TOKENS.logger, { useValue: logger });
  container.register(TOKENS.config, {
    lifetime: singleton,
    useFactory: () =>
      createConfigService({
        store: backends.configStore,
        schemas: CONFIG_SCHEMAS,
        logger,
        instanceId: instanceName,
        ...(backends.configSync ? { sync: backends.configSync } : {}),
      }),
    dispose: (config) => config.close(),
  });
  container.register(TOKENS.events, {
    lifetime: singleton,
    useFactory: () =>
      createEventBus<AppEvents>({ transport: backends.transport, source: instanceName, logger }),
    dispose: (events) => events.close(),
  });
  container.register(TOKENS.emailProviders, {
    lifetime: singleton,
    // Both are memory providers named like the real ones: the demo shows the switch without accounts.
    useFactory: () => ({
      ses: memoryEmailProvider({ name: 'ses' }),
      sendgrid: memoryEmailProvider({ name: 'sendgrid' }),
    }),
  });
  container.register(TOKENS.email, {
    lifetime: singleton,
    useFactory: (r) =>
      createEmailService({
        providers: recording(r.resolve(TOKENS.emailProviders), emailSequence),
        config: r.resolve(TOKENS.config), // `email.provider` is read at every send
        defaultFrom: 'Chat demo <noreply@example.com>',
        idempotency: { store: backends.emailIdempotency },
        events: sinkOf(r.resolve(TOKENS.events)),
        logger,
      }),
    dispose: (email) => email.close(),
  });
  container.register(TOKENS.smsProvider, { lifetime: singleton, useFactory: () => memorySmsProvider() });
  container.register(TOKENS.sms, {
    lifetime: singleton,
    useFactory: (r) =>
      createSmsService({
        providers: { memory: r.resolve(TOKENS.smsProvider) },
        events: sinkOf(r.resolve(TOKENS.events)),
        logger,
      }),
    dispose: (sms) => sms.close(),
  });
  container.register(TOKENS.otp, {
    lifetime: singleton,
    useFactory: (r) =>
      createOtpService({
        store: backends.otpStore,
        secret: otpSecret,
        // Sign-in uses SMS; the email channel verifies an address (`otp.send({ channel: 'email', ... })`).
        channels: { sms: smsChannel(r.resolve(TOKENS.sms)), email: emailChannel(r.resolve(TOKENS.email)) },
        resendCooldownMs: (options.otpResendCooldownSeconds ?? 30) * 1000,
        events: sinkOf(r.resolve(TOKENS.events)),
        logger,
      }),
    dispose: (otp) => otp.close(),
  });
  container.register(TOKENS.permissions, {
    lifetime: singleton,
    useFactory: () =>
      createPermissionService({
        store: backends.permissionStore,
        logger,
        ...(backends.permissionCache ? { cache: backends.permissionCache } : {}),
      }),
    dispose: (permissions) => permissions.close(),
  });
  container.register(TOKENS.flags, {
    lifetime: singleton,
    useAsyncFactory: async (r) => {
      const config = await r.resolveAsync(TOKENS.config);
      // Seed before the first load, so the snapshot starts with them.
      for (const [name, definition] of Object.entries(SEEDED_FLAGS)) {
        if ((await config.get(`flags.${name}`)) === undefined) await setFlag(config, name, definition);
      }
      // Counted per variant for the console's evaluation chart (a wrapper: the same Flags otherwise).
      const flags = countEvaluations(createFlags({ source: config, logger }));
      await flags.ready();
      return flags;
    },
    dispose: (flags) => flags.close(),
  });
  container.register(TOKENS.rooms, {
    lifetime: singleton,
    useFactory: (r) => {
      const permissions = r.resolve(TOKENS.permissions);
      const events = r.resolve(TOKENS.events);
      return {
        list: () => stores.rooms.list(),
        get: (id) => stores.rooms.get(id),
        delete: (id) => stores.rooms.delete(id),
        // Whoever creates a room owns it: the scoped `owner` role grants room:* on that room only.
        async create(name, createdBy) {
          const room = await stores.rooms.create(name, createdBy);
          await permissions.assign(createdBy, 'owner', { resource: { type: 'room', id: room.id } });
          await events.publish('room.created', { roomId: room.id, name: room.name, userId: createdBy });
          return room;
        },
      } satisfies RoomStore;
    },
  });
  container.register(TOKENS.messages, {
    lifetime: singleton,
    useFactory: (r) => {
      const events = r.resolve(TOKENS.events);
      return {
        list: (roomId, limit) => stores.messages.list(roomId, limit),
        async send(roomId, userId, text) {
          const message: Message = {
            id: randomUUID(),
            roomId,
            userId,
            text: text.slice(0, 2000),
            sentAt: new Date().toISOString(),
          };
          await stores.messages.add(message);
          await events.publish('message.sent', {
            messageId: message.id,
            roomId,
            userId,
            length: message.text.length,
            sentAt: message.sentAt,
          });
          return message;
        },
      } satisfies MessagesService;
    },
  });
  container.register(TOKENS.auth, {
    lifetime: singleton,
    useFactory: (r) => {
      const otp = r.resolve(TOKENS.otp);
      const permissions = r.resolve(TOKENS.permissions);
      const events = r.resolve(TOKENS.events);
      const phoneOf = (phone: string): string => {
        const destination = normalizeDestination(phone);
        if (destination.kind !== 'phone') {
          throw new OtpError(
            OtpErrorCode.INVALID_DESTINATION,
            'sign-in needs a phone number, e.g. +14155550123',
          );
        }
        return destination.value;
      };
      return {
        async sendCode(phone, ip) {
          const result = await otp.send({
            to: phoneOf(phone),
            channel: 'sms',
            purpose: LOGIN,
            ...(ip ? { ip } : {}),
          });
          return { challengeId: result.challengeId, expiresAt: result.expiresAt.toISOString() };
        },
        async verifyCode(phone, code, challengeId) {
          let to: string;
          try {
            to = phoneOf(phone);
          } catch (error) {
            if (error instanceof OtpError) return { ok: false, reason: error.code };
            throw error;
          }
          const result = await otp.verify({
            to,
            code: String(code ?? ''),
            purpose: LOGIN,
            ...(challengeId ? { challengeId } : {}),
          });
          if (!result.ok) return { ok: false, reason: 'INVALID_CODE' };
          const { userId, created } = await stores.users.findOrCreate(to);
          await permissions.assign(userId, 'member'); // every signed-in user; idempotent
          const token = randomBytes(32).toString('base64url');
          await stores.users.putSession(token, { userId, phone: to }, sessionTtlMs);
          if (created) {
            await events.publish('user.registered', {
              userId,
              phone: to,
              email: demoEmailOf(userId),
              registeredAt: new Date().toISOString(),
            });
          }
          await events.publish('user.signed_in', { userId });
          return { ok: true, token, userId };
        },
        async session(token) {
          if (typeof token !== 'string' || token.length === 0 || token.length > 200) return undefined;
          return stores.users.getSession(token);
        },
        async signOut(token) {
          if (typeof token === 'string' && token.length > 0) await stores.users.deleteSession(token);
        },
      } satisfies AuthService;
    },
  });
  container.register(TOKENS.eventHandlers, {
    lifetime: singleton,
    useAsyncFactory: async (r) =>
      registerEventHandlers({
        events: r.resolve(TOKENS.events),
        email: r.resolve(TOKENS.email),
        config: await r.resolveAsync(TOKENS.config),
      }),
    dispose: (subscriptions) => Promise.all(subscriptions.map((s) => s.close())),
  });

  const closeBackends = async () => {
    backends.redis?.disconnect();
    await backends.prisma?.$disconnect().catch(() => {});
  };

  try {
    const config = container.resolve(TOKENS.config);
    if ((await config.get('email.provider')) === undefined) await config.set('email.provider', 'ses');
    const permissions = container.resolve(TOKENS.permissions);
    for (const [role, { grants, inherits }] of Object.entries(ROLES)) {
      for (const permission of grants) await permissions.grant(role, permission);
      for (const parent of inherits) await permissions.inherit(role, parent);
    }
    const events = container.resolve(TOKENS.events);
    const emailProviders = container.resolve(TOKENS.emailProviders);
    const smsProvider = container.resolve(TOKENS.smsProvider);
    const services: AppServices = {
      container,
      instanceName,
      logger,
      mode,
      config,
      events,
      email: container.resolve(TOKENS.email),
      emailOutbox: () => {
        const byId = new Map(
          Object.values(emailProviders).flatMap((provider) =>
            provider.messages().map((m) => [m.id, { provider: provider.name, message: m }] as const),
          ),
        );
        const outbox: OutboxEmail[] = [];
        for (let i = emailSequence.length - 1; i >= 0; i--) {
          const kept = byId.get(emailSequence[i]!);
          if (!kept) continue;
          outbox.push({
            provider: kept.provider,
            to: kept.message.to.map((a) => a.email).join(', '),
            subject: kept.message.subject ?? '',
            at: kept.message.sentAt.toISOString(),
          });
        }
        return outbox;
      },
      sms: container.resolve(TOKENS.sms),
      smsOutbox: () =>
        smsProvider
          .messages()
          .map((m) => ({ to: m.to, body: m.body, at: m.sentAt.toISOString() }))
          .reverse(),
      otp: container.resolve(TOKENS.otp),
      permissions,
      flags: await container.resolveAsync(TOKENS.flags),
      rooms: container.resolve(TOKENS.rooms),
      messages: container.resolve(TOKENS.messages),
      auth: container.resolve(TOKENS.auth),
      grantRoomOwner: (userId, roomId) =>
        permissions.assign(userId, 'owner', { resource: { type: 'room', id: roomId } }),
      async eventLog(limit = 50) {
        const histories = await Promise.all(
          APP_EVENT_NAMES.map((name) => events.getEventHistory(name, limit)),
        );
        return histories
          .flat()
          .sort((a, b) => b.timestamp - a.timestamp || b.position.localeCompare(a.position))
          .slice(0, limit)
          .map((e) => ({ id: e.id, name: e.name, data: e.data, at: new Date(e.timestamp).toISOString() }));
      },
      async close() {
        try {
          await container.dispose();
        } finally {
          await closeBackends();
        }
      },
      [Symbol.asyncDispose]() {
        return services.close();
      },
    };
    await container.resolveAsync(TOKENS.eventHandlers);
    logger.info({ instanceName, mode }, 'services ready');
    return services;
  } catch (error) {
    await container.dispose().catch(() => {});
    await closeBackends();
    throw error;
  }
}

/** Warnings and errors to the console (`console.warn` / `console.error`), the rest nowhere. */
const consoleLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (obj, msg) => console.warn(msg ?? '', obj),
  error: (obj, msg) => console.error(msg ?? '', obj),
};

/**
 * {@link createServices} configured from the environment: `REDIS_URL`, `DATABASE_URL`, `DATABASE_SCHEMA`,
 * `REDIS_KEY_PREFIX`, `INSTANCE_NAME`, `OTP_SECRET`, `APP_STORAGE` (`memory`, the default, or `sqlite`:
 * used when neither Redis nor Postgres is set), `APP_SQLITE_FILE`; warnings and errors go to the console.
 *
 * @example
 * ```ts
 * const app = await servicesFromEnv(); // REDIS_URL=redis://127.0.0.1:6379 node server.js
 * ```
 */
export function servicesFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<AppServices> {
  const pick = (name: string) => (env[name] ? env[name] : undefined);
  const options: AppServicesOptions = { logger: consoleLogger };
  const set = <K extends keyof AppServicesOptions>(key: K, value: AppServicesOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value;
  };
  set('redisUrl', pick('REDIS_URL'));
  set('databaseUrl', pick('DATABASE_URL'));
  set('databaseSchema', pick('DATABASE_SCHEMA'));
  set('keyPrefix', pick('REDIS_KEY_PREFIX'));
  set('instanceName', pick('INSTANCE_NAME'));
  set('otpSecret', pick('OTP_SECRET'));
  // APP_STORAGE=sqlite keeps the state in one file (the demo's default: examples/nextjs-chat sets it).
  const storage = pick('APP_STORAGE') ?? 'memory';
  if (storage !== 'memory' && storage !== 'sqlite')
    throw new Error(`[@app-examples/shared] APP_STORAGE must be 'memory' or 'sqlite', got '${storage}'`);
  set('storage', storage);
  set('sqliteFile', pick('APP_SQLITE_FILE'));
  return createServices(options);
}
