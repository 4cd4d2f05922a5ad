// Issue 19: "no exported attribute anywhere contains a code, an address, a phone number or a message body".
// Each package scans its own spans; this runs a full demo scenario with every package wired together (the
// example's composition root, in memory and on Redis), then scans everything the SDK exported: every span's
// name, attributes, status message, events and links, and every metric data point's attributes.
import { setFlag } from '@app/flags';
import { requireRedis } from '@app/test-harness';
// core's in-memory SDK fixture (the one the packages' telemetry tests reuse), not a copy.
import { createTestSdk, type TestSdk } from '@app/test-harness/otel';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AppServices, createServices, TOKENS } from './index.js';

const EVENTUALLY = { timeout: 30_000, interval: 50 };

type ExportedSpan = ReturnType<TestSdk['spans']>[number];
type ExportedMetric = Awaited<ReturnType<TestSdk['metrics']>>[number];

/** What the scenario typed in, and what must never come out. */
const MARKER = 'zq-scan-marker-81c4';
const PHONE_INPUT = '+1 (415) 555-0142';
const PHONE = '+14155550142';
const EMAIL_INPUT = 'Scan.Person@Example.COM';
const RECIPIENT = 'Marker.Recipient@Example.ORG';
const SMS_TO = '+442079460958';
const SUBJECT = `Quarterly report ${MARKER}-subject`;
const EMAIL_TEXT = `Dear reader, the figures: ${MARKER}-email-body`;
const SMS_TEXT = `Your parcel ${MARKER}-sms-body is on its way`;
const CHAT_TEXT = `hello room ${MARKER}-chat`;

/** Every string an exported span or metric point carries, with where it was found. */
function exportedStrings(
  spans: ExportedSpan[],
  metrics: ExportedMetric[],
): Array<[where: string, value: string]> {
  const out: Array<[string, string]> = [];
  const attrs = (where: string, attributes: Record<string, unknown> | undefined) => {
    for (const [key, value] of Object.entries(attributes ?? {})) {
      out.push(
        [`${where} key`, key],
        [`${where} ${key}`, typeof value === 'string' ? value : JSON.stringify(value)],
      );
    }
  };
  for (const span of spans) {
    const where = `span ${span.name}`;
    out.push([where, span.name]);
    if (span.status.message) out.push([`${where} status`, span.status.message]);
    attrs(where, span.attributes);
    for (const event of span.events) {
      out.push([`${where} event`, event.name]);
      attrs(`${where} event ${event.name}`, event.attributes);
    }
    for (const link of span.links) attrs(`${where} link`, link.attributes);
  }
  for (const metric of metrics) {
    for (const point of metric.dataPoints) attrs(`metric ${metric.descriptor.name}`, point.attributes);
  }
  return out;
}

/** A six-digit code as a whole number (not a run inside a longer one, such as a timestamp). */
const codePattern = (code: string) => new RegExp(`(?<![0-9])${code}(?![0-9])`);
const codeOf = (text: string | undefined) => text?.match(/\b\d{6}\b/)?.[0];
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

const redis = await requireRedis();
afterAll(() => redis.cleanup());

describe.each([
  { mode: 'memory', redisUrl: undefined as string | undefined, skip: false },
  { mode: 'redis', redisUrl: redis.url, skip: !redis.available },
])('a full demo scenario exports no code, address, number or body ($mode)', ({ mode, redisUrl, skip }) => {
  let sdk: TestSdk;
  let app: AppServices;
  const codes: string[] = [];
  let spans: ExportedSpan[] = [];
  let metrics: ExportedMetric[] = [];

  beforeAll(async () => {
    if (skip) return;
    // The SDK first: the services find the global providers as they are built.
    sdk = createTestSdk();
    app = await createServices({
      instanceName: `scan-${mode}`,
      otpResendCooldownSeconds: 0,
      ...(redisUrl ? { redisUrl, keyPrefix: `${redis.prefix}scan:` } : {}),
    });
    expect(app.mode).toBe(mode);
    const tracer = sdk.tracerProvider.getTracer('scan-scenario');
    await tracer.startActiveSpan('scenario', async (root) => {
      try {
        await scenario(app, codes);
      } finally {
        root.end();
      }
    });
    spans = [...sdk.spans()];
    metrics = await sdk.metrics();
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await sdk?.shutdown();
  });

  it.skipIf(skip)('exported spans from every package, so the scan below has something to read', () => {
    const scopes = new Set(spans.map((s) => s.instrumentationScope.name));
    for (const scope of [
      '@app/events',
      '@app/otp',
      '@app/email',
      '@app/sms',
      '@app/config',
      '@app/permissions',
      '@app/di',
    ]) {
      expect(scopes, `spans of ${scope}`).toContain(scope);
    }
    // @app/flags speaks through `feature_flag.evaluation` events on the active span.
    const evaluations = spans.flatMap((s) => s.events.filter((e) => e.name === 'feature_flag.evaluation'));
    expect(evaluations.length).toBeGreaterThanOrEqual(2);
    // OTP: both channels, a failed and a successful verify.
    const otpNames = spans.filter((s) => s.instrumentationScope.name === '@app/otp').map((s) => s.name);
    expect(otpNames.filter((n) => /send/.test(n)).length).toBeGreaterThanOrEqual(2);
    expect(otpNames.filter((n) => /verify/.test(n)).length).toBeGreaterThanOrEqual(4);
    // Events: a retried attempt and a dead letter are in the trace too.
    const consumer = spans.filter((s) => s.instrumentationScope.name === '@app/events' && s.kind === 4);
    expect(consumer.length).toBeGreaterThan(0);
    expect(consumer.some((s) => s.links.length > 0)).toBe(true);
    expect(metrics.length).toBeGreaterThan(0);
    expect(codes).toHaveLength(4);
  });

  it.skipIf(skip)('no exported string holds a code, an address, a phone number, a subject or a body', () => {
    const strings = exportedStrings(spans, metrics);
    expect(strings.length).toBeGreaterThan(100);
    const forms = (value: string) => [value, value.toLowerCase(), value.toUpperCase()];
    const userEmails = app.emailOutbox().map((m) => m.to);
    const secrets = [
      ...forms(EMAIL_INPUT),
      ...forms(RECIPIENT),
      ...userEmails.flatMap(forms),
      PHONE_INPUT,
      PHONE,
      PHONE.slice(1), // digits only
      PHONE.slice(2), // national number
      SMS_TO,
      SMS_TO.slice(1),
      MARKER,
      'Welcome to the chat!',
      'Your verification code',
      'Your account ',
    ];
    const leaks: string[] = [];
    for (const [where, value] of strings) {
      for (const secret of secrets)
        if (value.includes(secret)) leaks.push(`${where}: ${value} (has ${secret})`);
      for (const code of codes)
        if (codePattern(code).test(value)) leaks.push(`${where}: ${value} (code ${code})`);
    }
    expect(leaks).toEqual([]);
  });
});

/**
 * What the demo does, through its public services: sign in by SMS code (a wrong code first), verify an
 * email address by code (a wrong one first), send an email and an SMS, create a room and post, let the
 * handlers run (one flaky, retried; one dead-lettered), set config, evaluate flags, check permissions.
 */
async function scenario(app: AppServices, codes: string[]): Promise<void> {
  // OTP by SMS, through the sign-in flow.
  const { challengeId } = await app.auth.sendCode(PHONE_INPUT);
  const smsCode = codeOf(app.smsOutbox().find((m) => m.to === PHONE)?.body);
  expect(smsCode, 'the SMS code reached the outbox').toBeDefined();
  codes.push(smsCode!, wrong(smsCode!));
  expect(await app.auth.verifyCode(PHONE_INPUT, wrong(smsCode!), challengeId)).toMatchObject({ ok: false });
  const signedIn = await app.auth.verifyCode(PHONE_INPUT, smsCode!, challengeId);
  if (!signedIn.ok) throw new Error(`sign-in failed: ${signedIn.reason}`);
  const { userId } = signedIn;

  // OTP by email.
  const emailChallenge = await app.otp.send({ to: EMAIL_INPUT, channel: 'email', purpose: 'verify-email' });
  const providers = app.container.resolve(TOKENS.emailProviders);
  const otpEmail = Object.values(providers)
    .flatMap((p) => p.messages())
    .find((m) => m.to.some((a) => a.email.toLowerCase() === EMAIL_INPUT.toLowerCase()));
  const emailCode = codeOf(otpEmail?.text);
  expect(emailCode, 'the email code reached the provider').toBeDefined();
  codes.push(emailCode!, wrong(emailCode!));
  const verifyEmail = (code: string) =>
    app.otp.verify({
      to: EMAIL_INPUT,
      code,
      purpose: 'verify-email',
      challengeId: emailChallenge.challengeId,
    });
  expect(await verifyEmail(wrong(emailCode!))).toMatchObject({ ok: false });
  expect(await verifyEmail(emailCode!)).toMatchObject({ ok: true });

  // An email and an SMS with the marker in subject and bodies.
  await app.email.send({ to: RECIPIENT, subject: SUBJECT, text: EMAIL_TEXT, html: `<p>${EMAIL_TEXT}</p>` });
  await app.sms.send(SMS_TO, SMS_TEXT);
  // Refused input: the errors' messages must not carry it into exception events either.
  await expect(
    app.email.send({ to: `${MARKER}-bad-address`, subject: SUBJECT, text: EMAIL_TEXT }),
  ).rejects.toThrow();
  await expect(app.sms.send(`${MARKER}-bad-number`, SMS_TEXT)).rejects.toThrow();
  await expect(
    app.otp.send({ to: `${MARKER}-bad-destination`, channel: 'email', purpose: 'verify-email' }),
  ).rejects.toThrow();

  // Events: a flaky handler (fails once, then succeeds) and one that always fails (dead-lettered).
  let flakyAttempts = 0;
  let flakyDone = false;
  const flaky = await app.events.subscribe(
    'room.created',
    async () => {
      flakyAttempts++;
      if (flakyAttempts === 1) throw new Error('flaky handler: the first attempt fails');
      flakyDone = true;
    },
    { group: 'scan-flaky', retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 } },
  );
  const doomed = await app.events.subscribe(
    'room.created',
    async () => {
      throw new Error('doomed handler: always fails');
    },
    { group: 'scan-doomed', retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 50 } },
  );
  try {
    const room = await app.rooms.create('scan room', userId);
    await app.messages.send(room.id, userId, CHAT_TEXT);
    await vi.waitFor(async () => {
      expect(flakyDone).toBe(true);
      expect(await app.events.listDeadLetters('scan-doomed')).toHaveLength(1);
      // user.registered's handlers: welcome email, preferences in config, analytics.
      expect(app.emailOutbox().some((m) => m.subject.startsWith('Welcome'))).toBe(true);
      expect(await app.config.get(`notifications.${userId}`)).toBeDefined();
      const tracked = (await app.eventLog(200)).filter((e) => e.name === 'analytics.tracked');
      expect(tracked.map((e) => (e.data as { event: string }).event).sort()).toEqual([
        'message_sent',
        'user_registered',
      ]);
    }, EVENTUALLY);
    expect(flakyAttempts).toBe(2);

    // Config, flags, permissions.
    await app.config.set('email.provider', 'sendgrid');
    expect(await app.config.get('email.provider')).toBe('sendgrid');
    await setFlag(app.config, 'new-chat-ui', { enabled: true });
    await vi.waitFor(() => expect(app.flags.isEnabled('new-chat-ui', { userId })).toBe(true), EVENTUALLY);
    // A context carrying an address and a number: they must stay out of the evaluation events.
    app.flags.isEnabled('typing-indicators', { userId, email: EMAIL_INPUT, phone: PHONE });
    expect(await app.permissions.check(userId, 'create', 'room')).toBe(true);
    expect(await app.permissions.check(userId, 'delete', { type: 'room', id: 'someone-elses' })).toBe(false);
    await app.container.resolveAsync(TOKENS.flags);
  } finally {
    await Promise.all([flaky.close(), doomed.close()]);
  }
}
