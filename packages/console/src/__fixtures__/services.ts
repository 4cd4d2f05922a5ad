// The console's test services: config, flags, an event bus with a failing durable subscriber, permissions
// with an operator, a viewer and a stranger; on memory or on Redis and PostgreSQL.
import { type ConfigService, createConfigService, inProcessConfigSync } from '@app/config';
import { memoryConfigStore } from '@app/config/memory';
import type { StandardSchemaV1 } from '@app/core';
import { createEventBus, type EventTransport } from '@app/events';
import { createFlags, setFlag } from '@app/flags';
import { createPermissionService, type PermissionCache, type PermissionStore } from '@app/permissions';
import { memoryPermissionStore } from '@app/permissions/memory';
import { createConsole } from '../console.js';
import { countEvaluations } from '../evaluations.js';
import type { ConsoleEventBus, ConsoleOptions } from '../types.js';

export const OPERATOR = 'ops-1';
export const VIEWER = 'viewer-1';
export const STRANGER = 'stranger-1';
/** A secret and PII that must never appear in a response. */
export const SECRET = 'SG.abcdefghijklmnopqrstu.vwxyzABCDEFGHIJKLMNOPQ';
export const PHONE = '+33612345678';
export const ADDRESS = 'alice@example.com';

/** A Standard Schema accepting positive integers (what a zod/valibot schema would be). */
export const positiveInteger: StandardSchemaV1<number> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) =>
      Number.isInteger(value) && (value as number) > 0
        ? { value: value as number }
        : { issues: [{ message: 'must be a positive integer' }] },
  },
};

/** Reads the subject from the `x-user` header (the tests' "session"). */
export const getSubject = (request: Request) => request.headers.get('x-user');

/** Where the services keep their state: memory, or Redis and PostgreSQL. */
export interface Infrastructure {
  /** A new config service instance on the shared store (each call: another "instance" of the app). */
  config(): ConfigService<{ 'app.max-rooms': typeof positiveInteger }>;
  transport?: EventTransport;
  permissionStore: PermissionStore;
  permissionCache?: PermissionCache;
  /**
   * Give the console a bus with only the required methods (what a transport without `streamLength`,
   * `consumerGroups` and `deleteDeadLetters` gives): the section must degrade.
   */
  bareBus?: boolean;
  close?(): Promise<void>;
}

/** Memory infrastructure: one store and one in-process sync shared by every config instance. */
export function memoryInfrastructure(): Infrastructure {
  const store = memoryConfigStore();
  const sync = inProcessConfigSync();
  return {
    config: () => createConfigService({ store, sync, schemas: { 'app.max-rooms': positiveInteger } }),
    permissionStore: memoryPermissionStore(),
  };
}

/** The services of one app instance with the console mounted at /console, plus a second flags instance. */
export async function buildServices(infra: Infrastructure, overrides: Partial<ConsoleOptions> = {}) {
  const config = infra.config();
  await setFlag(config, 'new-checkout', {
    enabled: true,
    rollout: 50,
    variants: [
      { name: 'blue', weight: 1 },
      { name: 'green', weight: 1 },
    ],
  });
  await setFlag(config, 'beta-banner', {
    enabled: false,
    rules: [
      {
        name: 'staff',
        conditions: [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@corp.example'] }],
      },
    ],
  });
  await config.set('email.provider', 'ses');
  await config.set('email.providers.sendgrid', { apiKey: SECRET });
  await config.set('app.support-phone', PHONE);
  // Evaluations through this wrapper are counted: the flags section charts their share per variant.
  const flags = countEvaluations(createFlags({ source: config }));
  await flags.ready();
  for (let i = 0; i < 40; i++) flags.getVariant('new-checkout', { userId: `u-${i}` });
  // Another instance of the app: its own config service and flags over the same store.
  const otherConfig = infra.config();
  const otherFlags = createFlags({ source: otherConfig });
  await otherFlags.ready();

  const bus = createEventBus({ transport: infra.transport });
  let healthy = false;
  const handled: string[] = [];
  const waiters: (() => void)[] = [];
  const subscription = await bus.subscribe(
    'mail.requested',
    (event) => {
      if (!healthy) throw new Error('smtp down');
      handled.push(event.id);
      for (const wake of waiters.splice(0)) wake();
    },
    { group: 'mailer', retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
  );

  const permissions = createPermissionService({ store: infra.permissionStore, cache: infra.permissionCache });
  await permissions.grant('console-operator', 'console:read');
  await permissions.grant('console-operator', 'console:write');
  await permissions.grant('console-viewer', 'console:read');
  await permissions.assign(OPERATOR, 'console-operator');
  await permissions.assign(VIEWER, 'console-viewer');

  const handler = createConsole({
    basePath: '/console',
    authorize: { getSubject },
    config,
    flags,
    permissions,
    events: { bus: infra.bareBus ? bare(bus) : bus, names: ['mail.requested'], subscriptions: ['mailer'] },
    email: { providers: ['ses', 'sendgrid'] },
    sms: { providers: ['twilio', 'memory'] },
    otp: true,
    ...overrides,
  });
  await handler.ready();
  return {
    config,
    flags,
    otherFlags,
    bus,
    permissions,
    handler,
    handled,
    /** Resolves once the mailer handled `count` events. */
    async waitHandled(count: number): Promise<void> {
      while (handled.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    setHealthy: (value: boolean) => {
      healthy = value;
    },
    async close() {
      await handler.close();
      await subscription.close();
      await bus.close();
      await Promise.all([flags.close(), otherFlags.close()]);
      await permissions.close();
      await Promise.all([config.close(), otherConfig.close()]);
      await infra.close?.();
    },
  };
}

/** The bus as a transport without the optional inspection capabilities would give it. */
function bare(bus: ConsoleEventBus): ConsoleEventBus {
  return {
    subscribePattern: (pattern, handler) => bus.subscribePattern(pattern, handler),
    history: (name, options) => bus.history(name, options),
    listDeadLetters: (subscription, limit) => bus.listDeadLetters(subscription, limit),
    replayDeadLetters: (subscription, ids) => bus.replayDeadLetters(subscription, ids),
  };
}

/** The services on memory. */
export function memoryServices(overrides: Partial<ConsoleOptions> = {}) {
  return buildServices(memoryInfrastructure(), overrides);
}

/** A request to the console as `user`, same-origin by default. */
export function request(
  path: string,
  user: string | null,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Request {
  const headers: Record<string, string> = { ...(user ? { 'x-user': user } : {}), ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return new Request(`http://console.test/console${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}
