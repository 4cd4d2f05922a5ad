import { redisEntryKey } from '@app/config/redis';
import { setFlag } from '@app/flags';
import { requirePostgres, requireRedis } from '@app/test-harness';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AppServices, createServices } from './index.js';
import { MIGRATIONS_TABLE } from './migrate.js';
import { signIn } from './sign-in.fixture.js';

// What the handlers and other instances do happens after the call that caused it: wait for it, with a bound sized
// for a busy machine (vi.waitFor's default is 1 s). No test asserts how long it took.
const EVENTUALLY = { timeout: 30_000, interval: 50 };

const redis = await requireRedis();
// No migrations here: createServices applies them itself.
const db = await requirePostgres();

describe.skipIf(!redis.available || !db.available)('two instances on one Redis and one Postgres', () => {
  let a: AppServices;
  let b: AppServices;
  beforeAll(async () => {
    const options = {
      redisUrl: redis.url,
      databaseUrl: db.url,
      databaseSchema: db.schema,
      keyPrefix: redis.prefix,
      otpResendCooldownSeconds: 0,
    };
    // Started together: the migrations and the seeding must cope with a concurrent twin.
    [a, b] = await Promise.all([
      createServices({ ...options, instanceName: 'a' }),
      createServices({ ...options, instanceName: 'b' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('applied each package migration once, and tracks it', async () => {
    expect(a.mode).toBe('redis+postgres');
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM ${MIGRATIONS_TABLE} ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual([
      'config/0001_init.sql',
      'otp/0001_init.sql',
      'permissions/0001_init.sql',
    ]);
    // A third instance starting later applies nothing and fails on nothing.
    const c = await createServices({ databaseUrl: db.url, databaseSchema: db.schema });
    await c.close();
    expect((await db.query(`SELECT id FROM ${MIGRATIONS_TABLE}`)).rowCount).toBe(3);
  });

  it('keeps config, roles and OTP challenges in Postgres', async () => {
    const config = await db.query<{ value: string }>(
      `SELECT value FROM app_config_entries WHERE key = 'email.provider'`,
    );
    expect(config.rows.map((r) => JSON.parse(r.value))).toEqual(['ses']);
    const roles = await db.query<{ name: string }>('SELECT name FROM app_permissions_roles ORDER BY name');
    expect(roles.rows.map((r) => r.name)).toEqual(['admin', 'member', 'owner']);

    await a.auth.sendCode('+14155550201');
    const challenges = await db.query<{ code_hash: string }>('SELECT code_hash FROM app_otp_challenges');
    expect(challenges.rowCount).toBe(1);
    const code = a.smsOutbox()[0]!.body.match(/\b\d{6}\b/)![0];
    expect(challenges.rows[0]!.code_hash).not.toContain(code); // hashed, never the code
  });

  it('a flag flipped on one instance is seen on the other', async () => {
    expect(b.flags.isEnabled('new-chat-ui', { userId: 'u-1' })).toBe(false);
    await setFlag(a.config, 'new-chat-ui', { enabled: true });
    await vi.waitFor(
      () => expect(b.flags.isEnabled('new-chat-ui', { userId: 'u-1' })).toBe(true),
      EVENTUALLY,
    );
    await setFlag(b.config, 'new-chat-ui', { enabled: false });
    await vi.waitFor(
      () => expect(a.flags.isEnabled('new-chat-ui', { userId: 'u-1' })).toBe(false),
      EVENTUALLY,
    );
  });

  it('an email provider switched on one instance applies to the next email sent by the other', async () => {
    await a.config.set('email.provider', 'sendgrid');
    await vi.waitFor(async () => expect(await b.config.get('email.provider')).toBe('sendgrid'), EVENTUALLY);
    const sent = await b.email.send({ to: 'ada@example.com', subject: 'switched', text: 'hi' });
    expect(sent.provider).toBe('sendgrid');
    await a.config.set('email.provider', 'ses');
  });

  it('sessions, users, rooms and permissions are shared; user.registered is handled once', async () => {
    const phone = '+14155550202';
    const { token, userId } = await signIn(a, phone);
    expect(await b.auth.session(token)).toEqual({ userId, phone });

    // Durable handler groups: one of the two instances sends the welcome email, not both.
    await vi.waitFor(async () => {
      expect(await b.config.get(`notifications.${userId}`)).toEqual({ email: true, push: true, sms: false });
      const welcomes = [...a.emailOutbox(), ...b.emailOutbox()].filter((m) => m.to.startsWith(userId));
      expect(welcomes).toHaveLength(1);
      const tracked = (await b.eventLog(200)).filter(
        (e) => e.name === 'analytics.tracked' && (e.data as { userId?: string }).userId === userId,
      );
      expect(tracked).toHaveLength(1);
    }, EVENTUALLY);

    // Signing in again on the other instance: same user.
    expect((await signIn(b, phone)).userId).toBe(userId);

    const room = await a.rooms.create('shared', userId);
    expect((await b.rooms.list()).map((r) => r.id)).toContain(room.id);
    const target = { type: 'room', id: room.id };
    expect(await b.permissions.check(userId, 'delete', target)).toBe(true); // the creator owns it
    const other = await signIn(b, '+14155550203');
    expect(await b.permissions.check(other.userId, 'delete', target)).toBe(false); // cached on b now
    await a.grantRoomOwner(other.userId, room.id); // invalidates the shared Redis cache
    expect(await b.permissions.check(other.userId, 'delete', target)).toBe(true);
    expect(await b.rooms.delete(room.id)).toBe(true);
    expect(await a.rooms.get(room.id)).toBeUndefined();
  });
});

describe.skipIf(!redis.available)('two instances on Redis alone', () => {
  it('share config (stored in Redis), flags, rooms and sessions', async () => {
    const options = { redisUrl: redis.url, keyPrefix: `${redis.prefix}solo:`, otpResendCooldownSeconds: 0 };
    await using a = await createServices({ ...options, instanceName: 'a' });
    await using b = await createServices({ ...options, instanceName: 'b' });
    expect(a.mode).toBe('redis');
    await setFlag(a.config, 'typing-indicators', { enabled: false });
    await vi.waitFor(
      () => expect(b.flags.isEnabled('typing-indicators', { userId: 'u-1' })).toBe(false),
      EVENTUALLY,
    );
    // The definition is in Redis itself (no database): what a restarted instance would load.
    const stored = await redis
      .client()
      .hgetall(redisEntryKey(`${redis.prefix}solo:config:`, 'flags.typing-indicators'));
    expect(JSON.parse(stored.d ?? 'null')).toMatchObject({ enabled: false });

    const { token, userId } = await signIn(a, '+14155550301');
    expect(await b.auth.session(token)).toMatchObject({ userId });
    const room = await b.rooms.create('solo', userId);
    expect(await a.rooms.get(room.id)).toEqual(room);
  });
});
