import { isAppError } from '@app/core';
import { setFlag } from '@app/flags';
import { RateLimitedError } from '@app/otp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AppServices, createServices, TOKENS } from './index.js';

// What the handlers and other instances do happens after the call that caused it: wait for it, with a bound sized
// for a busy machine (vi.waitFor's default is 1 s). No test asserts how long it took.
const EVENTUALLY = { timeout: 30_000, interval: 50 };

/** Signs in by code the way a user does: ask for a code, read it from the SMS outbox, type it. */
async function signIn(app: AppServices, phone: string) {
  const { challengeId, expiresAt } = await app.auth.sendCode(phone);
  expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
  const sms = app.smsOutbox().find((m) => m.to === phone);
  const code = sms?.body.match(/\b\d{6}\b/)?.[0];
  expect(code, 'the code reached the SMS outbox').toBeDefined();
  const result = await app.auth.verifyCode(phone, code!, challengeId);
  if (!result.ok) throw new Error(`sign-in failed: ${result.reason}`);
  return result;
}

describe('createServices() in memory', () => {
  let app: AppServices;
  beforeAll(async () => {
    // No resend cooldown, so one phone can sign in twice in a row (the default, 30 s, is tested below).
    app = await createServices({ instanceName: 'test', otpResendCooldownSeconds: 0 });
  });
  afterAll(() => app.close());

  it('registers every service in the @app/di container under its token', async () => {
    expect(app.container.resolve(TOKENS.config)).toBe(app.config);
    expect(app.container.resolve(TOKENS.email)).toBe(app.email);
    expect(app.container.resolve(TOKENS.permissions)).toBe(app.permissions);
    expect(await app.container.resolveAsync(TOKENS.flags)).toBe(app.flags);
    expect(app.mode).toBe('memory');
  });

  it('seeds config, roles and flags', async () => {
    expect(await app.config.get('email.provider')).toBe('ses');
    expect((await app.permissions.getRole('owner'))?.inherits).toEqual(['member']);
    expect(app.flags.definition('new-chat-ui')).toMatchObject({ enabled: false });
    expect(app.flags.definition('typing-indicators')).toMatchObject({ enabled: true, rollout: 50 });
  });

  it('signs in by SMS code; the first sign-in registers the user and runs the guide handlers', async () => {
    const phone = '+14155550101';
    const first = await signIn(app, phone);
    expect(await app.auth.session(first.token)).toEqual({ userId: first.userId, phone });

    // user.registered -> welcome email (through 'ses', the seeded provider), preferences, analytics.
    await vi.waitFor(async () => {
      expect(app.emailOutbox().filter((m) => m.subject.startsWith('Welcome'))).toHaveLength(1);
      expect(await app.config.get(`notifications.${first.userId}`)).toEqual({
        email: true,
        push: true,
        sms: false,
      });
      const log = await app.eventLog();
      expect(log.find((e) => e.name === 'analytics.tracked')?.data).toMatchObject({
        event: 'user_registered',
        userId: first.userId,
      });
    }, EVENTUALLY);
    expect(app.emailOutbox()[0]).toMatchObject({ provider: 'ses', to: `${first.userId}@users.example.com` });

    // Every signed-in user is a member: may create rooms.
    expect(await app.permissions.check(first.userId, 'create', 'room')).toBe(true);

    // A used code does not verify twice; a wrong one is refused.
    const used = app
      .smsOutbox()
      .find((m) => m.to === phone)!
      .body.match(/\b\d{6}\b/)![0];
    expect(await app.auth.verifyCode(phone, used)).toEqual({ ok: false, reason: 'INVALID_CODE' });
    expect(await app.auth.verifyCode('not a phone', '123456')).toEqual({
      ok: false,
      reason: 'INVALID_DESTINATION',
    });

    // A second sign-in of the same phone is the same user and registers nothing.
    await app.auth.signOut(first.token);
    expect(await app.auth.session(first.token)).toBeUndefined();
    const again = await signIn(app, phone);
    expect(again.userId).toBe(first.userId);
    expect(again.token).not.toBe(first.token);
    const registered = (await app.eventLog(200)).filter((e) => e.name === 'user.registered');
    expect(registered).toHaveLength(1);
    expect(app.emailOutbox().filter((m) => m.subject.startsWith('Welcome'))).toHaveLength(1);
  });

  it('rooms: the creator owns the room; another member may not delete it until granted owner of it', async () => {
    const { userId } = await signIn(app, '+14155550102');
    const { userId: otherUser } = await signIn(app, '+14155550104');
    const room = await app.rooms.create('general', userId);
    const other = await app.rooms.create('random', userId);
    expect(room).toMatchObject({ name: 'general', createdBy: userId });
    const created = (await app.eventLog(200)).filter((e) => e.name === 'room.created').map((e) => e.data);
    expect(created).toContainEqual({ roomId: room.id, name: 'general', userId });
    expect(await app.rooms.get(room.id)).toEqual(room);
    expect((await app.rooms.list()).map((r) => r.id)).toEqual(expect.arrayContaining([room.id, other.id]));

    const target = { type: 'room', id: room.id };
    expect(await app.permissions.check(userId, 'delete', target)).toBe(true);
    expect(await app.permissions.check(otherUser, 'read', target)).toBe(true);
    expect(await app.permissions.check(otherUser, 'delete', target)).toBe(false);
    expect((await app.permissions.explain(otherUser, 'delete', target)).reason).toBe('no-matching-rule');

    await app.grantRoomOwner(otherUser, room.id);
    expect(await app.permissions.check(otherUser, 'delete', target)).toBe(true);
    // Owner of that room only.
    expect(await app.permissions.check(otherUser, 'delete', { type: 'room', id: other.id })).toBe(false);

    expect(await app.rooms.delete(room.id)).toBe(true);
    expect(await app.rooms.delete(room.id)).toBe(false);
    expect(await app.rooms.get(room.id)).toBeUndefined();
  });

  it('messages publish message.sent, which the analytics handler turns into analytics.tracked', async () => {
    const { userId } = await signIn(app, '+14155550103');
    const room = await app.rooms.create('chat', userId);
    const message = await app.messages.send(room.id, userId, 'hello');
    expect(await app.messages.list(room.id)).toEqual([message]);
    await vi.waitFor(async () => {
      const tracked = (await app.eventLog(200)).filter((e) => e.name === 'analytics.tracked');
      expect(tracked.map((e) => e.data)).toContainEqual(
        expect.objectContaining({
          event: 'message_sent',
          userId,
          properties: { roomId: room.id, length: 5 },
        }),
      );
    }, EVENTUALLY);
  });

  it('flags: setFlag through config, and isEnabled follows', async () => {
    expect(app.flags.isEnabled('new-chat-ui', { userId: 'u-1' })).toBe(false);
    await setFlag(app.config, 'new-chat-ui', { enabled: true });
    await vi.waitFor(
      () => expect(app.flags.isEnabled('new-chat-ui', { userId: 'u-1' })).toBe(true),
      EVENTUALLY,
    );
    await setFlag(app.config, 'new-chat-ui', { enabled: false });
    await vi.waitFor(
      () => expect(app.flags.isEnabled('new-chat-ui', { userId: 'u-1' })).toBe(false),
      EVENTUALLY,
    );

    // typing-indicators is a sticky 50% rollout: some users in, some out, the same answer every time.
    const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const on = users.filter((userId) => app.flags.isEnabled('typing-indicators', { userId }));
    expect(on.length).toBeGreaterThan(50);
    expect(on.length).toBeLessThan(150);
    expect(users.filter((userId) => app.flags.isEnabled('typing-indicators', { userId }))).toEqual(on);
  });

  it('email provider switch: config.set and the next email goes through the other provider', async () => {
    const send = (subject: string) => app.email.send({ to: 'ada@example.com', subject, text: 'hi' });
    await app.config.set('email.provider', 'ses');
    expect((await send('one')).provider).toBe('ses');
    await app.config.set('email.provider', 'sendgrid');
    expect((await send('two')).provider).toBe('sendgrid');
    expect(app.emailOutbox().slice(0, 2)).toMatchObject([
      { provider: 'sendgrid', subject: 'two', to: 'ada@example.com' },
      { provider: 'ses', subject: 'one' },
    ]);
    // The key is typed and validated: nothing is written for an unknown provider.
    await expect(app.config.set('email.provider', 'smtp' as 'ses')).rejects.toSatisfy((error: unknown) =>
      isAppError(error, '@app/config', 'INVALID_VALUE'),
    );
    expect(await app.config.get('email.provider')).toBe('sendgrid');
    await app.config.set('email.provider', 'ses');
  });

  it('eventLog lists events of every name, newest first', async () => {
    const log = await app.eventLog(500);
    expect(log.length).toBeGreaterThan(5);
    const times = log.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect([...new Set(log.map((e) => e.name))]).toEqual(
      expect.arrayContaining([
        'user.registered',
        'otp.sent',
        'sms.queued',
        'email.sent',
        'analytics.tracked',
      ]),
    );
    expect(await app.eventLog(3)).toHaveLength(3);
  });
});

describe('createServices() defaults', () => {
  it('refuses a second code within the resend cooldown with a typed RateLimitedError', async () => {
    await using app = await createServices();
    await app.auth.sendCode('+14155550104');
    const error = await app.auth.sendCode('+1 415 555 0104').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).reason).toBe('cooldown');
    expect(app.smsOutbox()).toHaveLength(1);
  });

  it('refuses a destination that is not a phone number before sending anything', async () => {
    await using app = await createServices();
    await expect(app.auth.sendCode('ada@example.com')).rejects.toSatisfy((error: unknown) =>
      isAppError(error, '@app/otp', 'INVALID_DESTINATION'),
    );
    expect(app.smsOutbox()).toEqual([]);
  });

  it('close() disposes the container: services refuse work afterwards', async () => {
    const app = await createServices();
    await app.close();
    await expect(app.events.publish('user.signed_in', { userId: 'u' })).rejects.toSatisfy((error: unknown) =>
      isAppError(error, '@app/events', 'CLOSED'),
    );
    expect(() => app.container.resolve(TOKENS.config)).toThrow(/disposed/i);
  });
});
