import { createEmailService } from '@app/email';
import { memoryEmailProvider } from '@app/email/memory';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ADDRESS,
  buildServices,
  memoryInfrastructure,
  memoryServices,
  OPERATOR,
  PHONE,
  request,
  SECRET,
  STRANGER,
  VIEWER,
} from './__fixtures__/services.js';
import { createConsole } from './console.js';
import { isConsoleError } from './errors.js';
import { CSRF_COOKIE, CSRF_HEADER } from './guard.js';
import type { ConsoleEvent, ConsoleEventBus } from './types.js';

type Services = Awaited<ReturnType<typeof memoryServices>>;
let s: Services;

beforeEach(async () => {
  s = await memoryServices();
});
afterEach(async () => {
  await s.close();
});

/** A session for `user`: the CSRF token and the cookie header the page would send. */
async function session(user: string) {
  const response = await s.handler(request('/api/session', user));
  expect(response.status).toBe(200);
  const cookie = response.headers.get('set-cookie') ?? '';
  const body = (await response.json()) as {
    csrfToken: string;
    sections: { name: string; read: boolean; write: boolean }[];
  };
  expect(cookie).toContain(`${CSRF_COOKIE}=${body.csrfToken}`);
  expect(cookie).toContain('HttpOnly');
  expect(cookie).toContain('SameSite=Strict');
  return {
    ...body,
    headers: {
      cookie: `${CSRF_COOKIE}=${body.csrfToken}`,
      [CSRF_HEADER]: body.csrfToken,
      origin: 'http://console.test',
      'sec-fetch-site': 'same-origin',
    },
  };
}

async function write(user: string, path: string, method: string, body?: unknown) {
  const { headers } = await session(user);
  return s.handler(request(path, user, { method, body, headers }));
}

/** Waits for the flags snapshot to see `predicate` hold (the write goes through config's watch). */
function flagsFollow(predicate: () => boolean): Promise<void> {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = s.flags.onChange(() => {
      if (predicate()) {
        stop();
        resolve();
      }
    });
  });
}

describe('guard', () => {
  it('answers 401 without a subject, on the page and the API', async () => {
    expect((await s.handler(request('', null))).status).toBe(401);
    expect((await s.handler(request('/api/flags', null))).status).toBe(401);
    expect((await s.handler(request('/api/session', null))).status).toBe(401);
  });

  it('refuses a subject without console:read (403) on every section', async () => {
    for (const section of ['flags', 'config', 'events', 'delivery', 'otp', 'permissions']) {
      const response = await s.handler(request(`/api/${section}`, STRANGER));
      expect(response.status, section).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    }
  });

  it('reports read and write per section in the session', async () => {
    expect((await session(OPERATOR)).sections.every((x) => x.read && x.write)).toBe(true);
    const viewer = await session(VIEWER);
    expect(viewer.sections.map((x) => x.name)).toEqual([
      'flags',
      'config',
      'events',
      'delivery',
      'otp',
      'permissions',
    ]);
    expect(viewer.sections.every((x) => x.read && !x.write)).toBe(true);
  });

  it('gives a reader without console:write a 403 on writes, and writes nothing', async () => {
    const response = await write(VIEWER, '/api/flags/new-checkout/toggle', 'POST', {});
    expect(response.status).toBe(403);
    expect(s.flags.definition('new-checkout')?.enabled).toBe(true);
    expect((await write(VIEWER, '/api/config/app.max-rooms', 'PUT', { value: 3 })).status).toBe(403);
    expect(await s.config.get('app.max-rooms')).toBeUndefined();
  });

  it('scopes write to one section with a role assigned on { type: console, id: section }', async () => {
    await s.permissions.grant('flag-editor', 'console:write');
    await s.permissions.assign(VIEWER, 'flag-editor', { resource: { type: 'console', id: 'flags' } });
    const rights = (await session(VIEWER)).sections;
    expect(rights.filter((x) => x.write).map((x) => x.name)).toEqual(['flags']);
    expect((await write(VIEWER, '/api/flags/new-checkout/toggle', 'POST', {})).status).toBe(200);
    expect((await write(VIEWER, '/api/config/app.max-rooms', 'PUT', { value: 3 })).status).toBe(403);
  });
});

describe('CSRF', () => {
  it('refuses a write without the token, with a wrong token, cross-site or cross-origin', async () => {
    const { headers } = await session(OPERATOR);
    const attempts: Record<string, string>[] = [
      { origin: 'http://console.test' },
      { ...headers, [CSRF_HEADER]: 'x'.repeat(43) },
      { cookie: headers.cookie as string, origin: 'http://console.test' },
      { ...headers, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
      { ...headers, 'sec-fetch-site': 'same-site' },
      { ...headers, origin: 'https://evil.example', 'sec-fetch-site': undefined as unknown as string },
    ];
    for (const forged of attempts) {
      const clean = Object.fromEntries(Object.entries(forged).filter(([, v]) => v !== undefined));
      const response = await s.handler(
        request('/api/flags/new-checkout/toggle', OPERATOR, { method: 'POST', body: {}, headers: clean }),
      );
      expect(response.status, JSON.stringify(clean)).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('CSRF');
    }
    expect(s.flags.definition('new-checkout')?.enabled).toBe(true);
  });

  it('takes the Host header as this origin when the framework rebuilt the URL with another host', async () => {
    const { headers } = await session(OPERATOR);
    const behind = { ...headers, host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' };
    const ok = await s.handler(
      request('/api/flags/new-checkout/toggle', OPERATOR, { method: 'POST', body: {}, headers: behind }),
    );
    expect(ok.status).toBe(200);
    const other = { ...behind, origin: 'http://127.0.0.1:4000' };
    const refused = await s.handler(
      request('/api/flags/new-checkout/toggle', OPERATOR, { method: 'POST', body: {}, headers: other }),
    );
    expect(refused.status).toBe(403);
  });

  it('accepts a same-origin write with the token', async () => {
    const response = await write(OPERATOR, '/api/flags/new-checkout/toggle', 'POST', {});
    expect(response.status).toBe(200);
    await flagsFollow(() => s.flags.definition('new-checkout')?.enabled === false);
  });
});

describe('flags', () => {
  it('lists flags with state, rollout, rules and variants', async () => {
    const body = (await (await s.handler(request('/api/flags', VIEWER))).json()) as {
      flags: {
        name: string;
        definition: { enabled: boolean; rollout?: number; rules?: unknown[]; variants?: unknown[] };
      }[];
    };
    const byName = Object.fromEntries(body.flags.map((f) => [f.name, f.definition]));
    expect(byName['new-checkout']).toMatchObject({
      enabled: true,
      rollout: 50,
      variants: [
        { name: 'blue', weight: 1 },
        { name: 'green', weight: 1 },
      ],
    });
    expect(byName['beta-banner']?.rules).toHaveLength(1);
  });

  it('charts the share of recent evaluations per variant, not counting its own evaluations', async () => {
    const share = async () => {
      const body = (await (await s.handler(request('/api/flags', VIEWER))).json()) as {
        flags: { name: string; evaluations: Record<string, number> | null }[];
      };
      return body.flags.find((f) => f.name === 'new-checkout')?.evaluations;
    };
    // The fixture evaluated new-checkout for 40 users: with rollout 50 some are off, the rest blue or green.
    const before = (await share()) ?? {};
    expect(Object.values(before).reduce((a, b) => a + b, 0)).toBe(40);
    expect(Object.keys(before).sort()).toEqual(['blue', 'green', 'off']);
    await s.handler(request('/api/flags/new-checkout/evaluate?context=%7B%7D', VIEWER));
    expect(await share()).toEqual(before);
    s.flags.isEnabled('new-checkout', { userId: 'u-1' });
    const after = (await share()) ?? {};
    expect(Object.values(after).reduce((a, b) => a + b, 0)).toBe(41);
  });

  it('validates like the API: a bad rollout or definition is a 400 with issues and writes nothing', async () => {
    const bad = await write(OPERATOR, '/api/flags/new-checkout/rollout', 'POST', { rollout: 150 });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { code: string; issues: string[] } };
    expect(body.error.code).toBe('INVALID_DEFINITION');
    expect(body.error.issues.join()).toMatch(/rollout/);
    const badRules = await write(OPERATOR, '/api/flags/beta-banner', 'PUT', {
      definition: {
        enabled: true,
        rules: [{ conditions: [{ attribute: 'x', operator: 'NOPE', values: [] }] }],
      },
    });
    expect(badRules.status).toBe(400);
    expect(s.flags.definition('new-checkout')?.rollout).toBe(50);
    expect(s.flags.definition('beta-banner')?.enabled).toBe(false);
  });

  it('sets the rollout, edits variants and records who did it with before and after', async () => {
    expect((await write(OPERATOR, '/api/flags/new-checkout/rollout', 'POST', { rollout: 80 })).status).toBe(
      200,
    );
    await flagsFollow(() => s.flags.definition('new-checkout')?.rollout === 80);
    const definition = {
      enabled: true,
      variants: [
        { name: 'a', weight: 1 },
        { name: 'b', weight: 3 },
      ],
    };
    expect((await write(OPERATOR, '/api/flags/new-checkout', 'PUT', { definition })).status).toBe(200);
    await flagsFollow(() => s.flags.definition('new-checkout')?.variants?.length === 2);
    const history = (await (await s.handler(request('/api/history?section=flags', VIEWER))).json()) as {
      records: {
        subject: string;
        action: string;
        target: string;
        before: { rollout?: number };
        after: { rollout?: number };
      }[];
    };
    expect(history.records.map((r) => r.action)).toEqual(['edit', 'rollout']);
    expect(history.records[1]).toMatchObject({
      subject: OPERATOR,
      target: 'new-checkout',
      before: { rollout: 50 },
      after: { rollout: 80 },
    });
    // Kept in config: a second console on the same config reads it.
    expect([...(await s.config.list('console.history.')).keys()]).toHaveLength(2);
  });

  it('evaluates a flag for a context with the reason', async () => {
    await s.config.set('flags.beta-banner', {
      enabled: true,
      rollout: 0,
      rules: [{ name: 'staff', conditions: [{ attribute: 'tier', operator: 'IN', values: ['staff'] }] }],
    });
    await flagsFollow(() => s.flags.definition('beta-banner')?.enabled === true);
    const ctx = encodeURIComponent(JSON.stringify({ userId: 'u-1', tier: 'staff' }));
    const hit = await (
      await s.handler(request(`/api/flags/beta-banner/evaluate?context=${ctx}`, VIEWER))
    ).json();
    expect(hit).toMatchObject({ enabled: true, reason: 'TARGETING_MATCH', ruleName: 'staff' });
    const miss = await (
      await s.handler(request('/api/flags/beta-banner/evaluate?context=%7B%7D', VIEWER))
    ).json();
    expect(miss).toMatchObject({ enabled: false });
    expect((await s.handler(request('/api/flags/beta-banner/evaluate?context=nope', VIEWER))).status).toBe(
      400,
    );
  });
});

describe('config', () => {
  it('lists keys by prefix with versions, never a secret or a phone number', async () => {
    const response = await s.handler(request('/api/config?prefix=email.', VIEWER));
    const text = await response.text();
    expect(text).not.toContain(SECRET);
    const body = JSON.parse(text) as { entries: { key: string; value: unknown; version: number }[] };
    expect(body.entries.find((e) => e.key === 'email.provider')).toMatchObject({ value: 'ses', version: 1 });
    const app = await (await s.handler(request('/api/config?prefix=app.', VIEWER))).text();
    expect(app).toContain('app.support-phone');
    expect(app).not.toContain(PHONE);
  });

  it('keeps a value with a hidden part read-only and refuses the placeholder written back', async () => {
    const body = (await (await s.handler(request('/api/config?prefix=email.', VIEWER))).json()) as {
      entries: { key: string; value: unknown; hidden: boolean }[];
    };
    const sendgrid = body.entries.find((e) => e.key === 'email.providers.sendgrid');
    expect(sendgrid).toMatchObject({ value: { apiKey: '[redacted]' }, hidden: true });
    expect(body.entries.find((e) => e.key === 'email.provider')?.hidden).toBe(false);
    const back = await write(OPERATOR, '/api/config/email.providers.sendgrid', 'PUT', {
      value: sendgrid?.value,
    });
    expect(back.status).toBe(400);
    expect(await s.config.get('email.providers.sendgrid')).toEqual({ apiKey: SECRET });
  });

  it('validates with the schema (400), sets and deletes', async () => {
    const bad = await write(OPERATOR, '/api/config/app.max-rooms', 'PUT', { value: -1 });
    expect(bad.status).toBe(400);
    expect(await s.config.get('app.max-rooms')).toBeUndefined();
    expect((await write(OPERATOR, '/api/config/app.max-rooms', 'PUT', { value: 12 })).status).toBe(200);
    expect(await s.config.get('app.max-rooms')).toBe(12);
    expect((await write(OPERATOR, '/api/config/app.max-rooms', 'DELETE')).status).toBe(200);
    expect(await s.config.get('app.max-rooms')).toBeUndefined();
  });
});

describe('events', () => {
  it('lists names with their publish rate and dead letters; replays one and sees it handled', async () => {
    await s.bus.publish('mail.requested', { to: ADDRESS, template: 'welcome' });
    let letters: { deadLetterId: string; data: unknown; attempts: number; error: { message: string } }[] = [];
    // The dead letter lands once the failing handler gave up: wait for it through the API.
    while (letters.length === 0) {
      letters = (
        (await (await s.handler(request('/api/events/dead-letters?subscription=mailer', VIEWER))).json()) as {
          deadLetters: typeof letters;
        }
      ).deadLetters;
      if (letters.length === 0) await new Promise((r) => setImmediate(r));
    }
    expect(letters[0]).toMatchObject({ attempts: 1, error: { message: 'smtp down' } });
    expect(JSON.stringify(letters)).not.toContain(ADDRESS);
    const overview = (await (await s.handler(request('/api/events', VIEWER))).json()) as {
      names: { name: string; rate: number[] }[];
    };
    const mail = overview.names.find((n) => n.name === 'mail.requested');
    expect(mail?.rate.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);

    s.setHealthy(true);
    const replay = await write(OPERATOR, '/api/events/dead-letters/replay', 'POST', {
      subscription: 'mailer',
      ids: [letters[0]?.deadLetterId],
    });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ replayed: 1 });
    while (s.handled.length === 0) await new Promise((r) => setImmediate(r));
    expect(s.handled).toHaveLength(1);
  });

  it('refuses an unknown subscription', async () => {
    expect((await s.handler(request('/api/events/dead-letters?subscription=other', VIEWER))).status).toBe(
      400,
    );
    const del = await write(OPERATOR, '/api/events/dead-letters/delete', 'POST', { subscription: 'other' });
    expect(del.status).toBe(400);
  });

  it("shows stream length and consumer groups and deletes dead letters through the bus's capabilities", async () => {
    await s.bus.publishMany([
      { name: 'mail.requested', data: { to: ADDRESS, template: 'a' } },
      { name: 'mail.requested', data: { to: ADDRESS, template: 'b' } },
    ]);
    let letters: { deadLetterId: string }[] = [];
    while (letters.length < 2) {
      letters = (
        (await (await s.handler(request('/api/events/dead-letters?subscription=mailer', VIEWER))).json()) as {
          deadLetters: typeof letters;
        }
      ).deadLetters;
      if (letters.length < 2) await new Promise((r) => setImmediate(r));
    }
    const overview = (await (await s.handler(request('/api/events', VIEWER))).json()) as {
      capabilities: Record<string, boolean>;
      names: { name: string; length: number | null; groups: { name: string; pending: number }[] | null }[];
    };
    expect(overview.capabilities).toEqual({ streamLength: true, groups: true, deleteDeadLetters: true });
    const mail = overview.names.find((n) => n.name === 'mail.requested');
    expect(mail?.length).toBe(2);
    expect(mail?.groups).toEqual([{ name: 'mailer', pending: 0, lag: 0 }]);

    // A viewer may not delete; two operators deleting the same letter at once delete it once.
    const denied = await write(VIEWER, '/api/events/dead-letters/delete', 'POST', { subscription: 'mailer' });
    expect(denied.status).toBe(403);
    const one = { subscription: 'mailer', ids: [letters[0]!.deadLetterId] };
    const raced = await Promise.all([
      write(OPERATOR, '/api/events/dead-letters/delete', 'POST', one),
      write(OPERATOR, '/api/events/dead-letters/delete', 'POST', one),
    ]);
    const counts = await Promise.all(
      raced.map(async (r) => ((await r.json()) as { deleted: number }).deleted),
    );
    expect(counts[0]! + counts[1]!).toBe(1);
    const all = await write(OPERATOR, '/api/events/dead-letters/delete', 'POST', { subscription: 'mailer' });
    expect(await all.json()).toMatchObject({ deleted: 1 });
    expect(await s.bus.listDeadLetters('mailer')).toEqual([]);
    // Deleted, not replayed: nothing was handled.
    expect(s.handled).toEqual([]);
  });

  it('degrades when the bus lacks the capabilities: n/a, and delete is not available', async () => {
    const bare = await buildServices({ ...memoryInfrastructure(), bareBus: true });
    try {
      const overview = (await (await bare.handler(request('/api/events', VIEWER))).json()) as {
        capabilities: Record<string, boolean>;
        names: { name: string; length: number | null; groups: unknown }[];
      };
      expect(overview.capabilities).toEqual({ streamLength: false, groups: false, deleteDeadLetters: false });
      expect(overview.names).toEqual([
        expect.objectContaining({ name: 'mail.requested', length: null, groups: null }),
      ]);
      const { headers } = await session(OPERATOR);
      const del = await bare.handler(
        request('/api/events/dead-letters/delete', OPERATOR, {
          method: 'POST',
          body: { subscription: 'mailer' },
          headers,
        }),
      );
      expect(del.status).toBe(404);
      expect(((await del.json()) as { error: { code: string } }).error.code).toBe('NOT_AVAILABLE');
    } finally {
      await bare.close();
    }
  });

  it('browses history by name and by pattern, redacting addresses', async () => {
    await s.bus.publish('mail.requested', { to: ADDRESS, template: 'welcome' });
    const byName = await (await s.handler(request('/api/events/history?name=mail.requested', VIEWER))).text();
    expect(byName).toContain('welcome');
    expect(byName).not.toContain(ADDRESS);
    const byPattern = (await (
      await s.handler(request('/api/events/history?name=mail.*', VIEWER))
    ).json()) as {
      events: unknown[];
    };
    expect(byPattern.events).toHaveLength(1);
  });
});

describe('delivery and OTP', () => {
  it('switches the email provider in config and rejects an unknown one', async () => {
    expect(
      (await write(OPERATOR, '/api/delivery/email/provider', 'POST', { provider: 'sendgrid' })).status,
    ).toBe(200);
    expect(await s.config.get('email.provider')).toBe('sendgrid');
    expect((await write(OPERATOR, '/api/delivery/email/provider', 'POST', { provider: 'smtp' })).status).toBe(
      400,
    );
    expect((await write(OPERATOR, '/api/delivery/sms/provider', 'POST', { provider: 'nope' })).status).toBe(
      400,
    );
    expect((await write(OPERATOR, '/api/delivery/push/provider', 'POST', { provider: 'x' })).status).toBe(
      400,
    );
    expect((await write(OPERATOR, '/api/delivery/sms/provider', 'POST', { provider: 'twilio' })).status).toBe(
      200,
    );
    expect(await s.config.get('sms.provider')).toBe('twilio');
  });

  it('shows recent sends from email events without the recipient', async () => {
    await s.bus.publish('email.sent', {
      messageId: 'm-1',
      provider: 'ses',
      status: 'sent',
      timestamp: new Date().toISOString(),
      recipientMasked: 'a***@example.com',
    });
    await s.bus.publish('email.delivered', {
      messageId: 'm-1',
      provider: 'ses',
      status: 'delivered',
      timestamp: new Date().toISOString(),
    });
    const text = await (await s.handler(request('/api/delivery', VIEWER))).text();
    expect(text).not.toContain('a***@example.com');
    const body = JSON.parse(text) as {
      recent: { messageId: string; status: string; events: number }[];
      channels: { primary: string }[];
    };
    expect(body.recent).toEqual([
      expect.objectContaining({ messageId: 'm-1', status: 'delivered', events: 2 }),
    ]);
    expect(body.channels[0]?.primary).toBe('ses');
  });

  it("shows how many attempts and failovers a real send took (from @app/email's own event)", async () => {
    const a = memoryEmailProvider({ name: 'a' });
    const b = memoryEmailProvider({ name: 'b' });
    const settings: Record<string, unknown> = { 'email.provider': 'a', 'email.failover': ['b'] };
    const email = createEmailService({
      providers: { a, b },
      config: { get: async (key: string) => settings[key], watch: () => () => {} },
      defaultFrom: 'app@example.com',
      retry: { baseDelayMs: 1, maxDelayMs: 1 },
      events: { publish: (name, data) => s.bus.publish(name as never, data as never).then(() => {}) },
    });
    a.failNext('provider');
    const { id } = await email.send({ to: 'ada@example.com', subject: 'Hi', text: 'Hello' });
    const text = await (await s.handler(request('/api/delivery', VIEWER))).text();
    expect(text).not.toContain('ada@example.com');
    expect((JSON.parse(text) as { recent: unknown[] }).recent).toContainEqual(
      expect.objectContaining({ messageId: id, provider: 'b', attempts: 2, failovers: 1 }),
    );
    await email.close();
  });

  it('counts OTP events per purpose, never a code, destination or challenge id', async () => {
    await s.bus.publish('otp.sent', {
      challengeId: 'ch-secret-1',
      purpose: 'login',
      channel: 'sms',
      destinationHash: 'hash-abc',
      expiresAt: '',
      attempts: 0,
    });
    await s.bus.publish('otp.failed', {
      purpose: 'login',
      reason: 'mismatch',
      destinationHash: 'hash-abc',
      challengeId: 'ch-secret-1',
    });
    await s.bus.publish('otp.locked', { purpose: 'login', reason: 'locked', maxAttempts: 5 });
    const text = await (await s.handler(request('/api/otp', VIEWER))).text();
    expect(text).not.toContain('ch-secret-1');
    expect(text).not.toContain('hash-abc');
    const body = JSON.parse(text) as { purposes: { purpose: string; totals: Record<string, number> }[] };
    expect(body.purposes).toEqual([
      expect.objectContaining({ purpose: 'login', totals: { sent: 1, verified: 0, failed: 1, locked: 1 } }),
    ]);
  });
});

describe('permissions', () => {
  it('grants a role and the explanation changes', async () => {
    const explain = () =>
      s
        .handler(request('/api/permissions/explain?subject=u-9&action=delete&type=room&id=r1', VIEWER))
        .then((r) => r.json());
    expect(await explain()).toMatchObject({ allowed: false, reason: 'no-matching-rule' });
    expect(
      (
        await write(OPERATOR, '/api/permissions/rules', 'POST', {
          op: 'grant',
          role: 'moderator',
          permission: 'room:delete',
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await write(OPERATOR, '/api/permissions/assignments', 'POST', {
          op: 'assign',
          subject: 'u-9',
          role: 'moderator',
        })
      ).status,
    ).toBe(200);
    expect(await explain()).toMatchObject({ allowed: true, reason: 'allowed' });
    const roles = (await (await s.handler(request('/api/permissions', VIEWER))).json()) as {
      roles: { name: string }[];
    };
    expect(roles.roles.map((r) => r.name)).toContain('moderator');
    const subject = (await (
      await s.handler(request('/api/permissions/subject?subject=u-9', VIEWER))
    ).json()) as {
      permissions: { permission: string }[];
    };
    expect(subject.permissions.map((p) => p.permission)).toEqual(['room:delete']);
  });
});

describe('live and assets', () => {
  it('pushes a flag change over server-sent events', async () => {
    const abort = new AbortController();
    const live = await s.handler(
      new Request('http://console.test/console/api/live', {
        headers: { 'x-user': VIEWER },
        signal: abort.signal,
      }),
    );
    expect(live.headers.get('content-type')).toContain('text/event-stream');
    const reader = (live.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    text += decoder.decode((await reader.read()).value);
    expect(text).toContain('event: ready');
    await write(OPERATOR, '/api/flags/new-checkout/toggle', 'POST', {});
    while (!text.includes('event: flags')) text += decoder.decode((await reader.read()).value);
    expect(text).toContain('new-checkout');
    abort.abort();
    await reader.cancel();
  });

  it('serves the page with a strict CSP and the built assets', async () => {
    const page = await s.handler(request('', VIEWER));
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toMatch(/\/console\/assets\/console\.js\?v=/);
    const js = await s.handler(request('/assets/console.js', null));
    expect(js.status).toBe(200);
    expect((await js.text()).length).toBeGreaterThan(1000);
    expect((await s.handler(request('/assets/nope.js', null))).status).toBe(404);
    expect((await s.handler(new Request('http://console.test/elsewhere'))).status).toBe(404);
  });

  it('shows only the sections of the services given', async () => {
    await using only = createConsole({
      authorize: { getSubject, permissions: s.permissions },
      flags: s.flags,
    });
    const body = (await (
      await only(new Request('http://x/api/session', { headers: { 'x-user': VIEWER } }))
    ).json()) as {
      sections: { name: string }[];
    };
    expect(body.sections.map((x) => x.name)).toEqual(['flags']);
    expect((await only(new Request('http://x/api/config', { headers: { 'x-user': VIEWER } }))).status).toBe(
      404,
    );
  });

  it('answers while the bus cannot be subscribed to, and subscribes on a later request', async () => {
    let failures = 1;
    const flaky = {
      ...s.bus,
      subscribePattern: (pattern: string, handler: (event: ConsoleEvent) => unknown) => {
        if (failures-- > 0) return Promise.reject(new Error('bus down'));
        return s.bus.subscribePattern(pattern, handler);
      },
    } as unknown as ConsoleEventBus;
    await using flakyConsole = createConsole({
      authorize: { getSubject, permissions: s.permissions },
      flags: s.flags,
      events: { bus: flaky, names: [] },
      otp: true,
    });
    await expect(flakyConsole.ready()).rejects.toThrow('bus down');
    const ask = (path: string) =>
      flakyConsole(new Request(`http://x${path}`, { headers: { 'x-user': VIEWER } }));
    expect((await ask('/api/flags')).status).toBe(200); // this request subscribed again
    await s.bus.publish('otp.sent', {
      challengeId: 'c',
      purpose: 'signup',
      channel: 'sms',
      destinationHash: 'h',
      expiresAt: '',
      attempts: 0,
    });
    const body = (await (await ask('/api/otp')).json()) as { purposes: { purpose: string }[] };
    expect(body.purposes.map((p) => p.purpose)).toEqual(['signup']);
  });

  it('refuses to start without a way to guard its routes', () => {
    expect(() => createConsole({ authorize: { getSubject } })).toThrow(/permission service/);
    try {
      createConsole({ authorize: { getSubject }, basePath: 'no-slash', permissions: s.permissions });
    } catch (error) {
      expect(isConsoleError(error, 'INVALID_OPTIONS')).toBe(true);
    }
    expect(() =>
      createConsole({ authorize: { getSubject }, basePath: 'no-slash', permissions: s.permissions }),
    ).toThrow();
  });
});

const getSubject = (request: Request) => request.headers.get('x-user');
