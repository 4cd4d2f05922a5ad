// Playwright (playwright-core + Debian's Chromium) through every section of the console, on memory and on
// Redis + PostgreSQL. Screenshots land in test-artifacts/ (gitignored).

import { createConfigService } from '@app/config';
import { prismaConfigStore } from '@app/config/prisma';
import { redisConfigSync } from '@app/config/redis';
import { redisEventTransport } from '@app/events/redis';
import { prismaPermissionStore } from '@app/permissions/prisma';
import { redisPermissionCache } from '@app/permissions/redis';
import { requirePostgres, requireRedis } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  buildServices,
  type Infrastructure,
  memoryInfrastructure,
  OPERATOR,
  positiveInteger,
} from './__fixtures__/services.js';
import {
  walkConfig,
  walkDelivery,
  walkEvents,
  walkFlags,
  walkForgery,
  walkOtp,
  walkPermissions,
  walkReadOnly,
} from './browser/scenario.js';
import { browserTestsRunnable, launchChromium, pageAs, serveConsole } from './browser/support.js';

const runnable = browserTestsRunnable('console browser tests');
const redis = await requireRedis();
const db = await requirePostgres({ migrations: ['permissions', 'config'] });

/** Config in PostgreSQL with Redis as cache and notifier; events on Redis Streams; permissions in PostgreSQL. */
function redisPostgresInfrastructure(): Infrastructure {
  const prisma = createTestPrisma(db);
  const prefix = redis.prefix;
  const client = redis.client();
  return {
    config: () =>
      createConfigService({
        store: prismaConfigStore({ prisma }),
        sync: redisConfigSync({ client: redis.client(), keyPrefix: `${prefix}config:` }),
        schemas: { 'app.max-rooms': positiveInteger },
      }),
    transport: redisEventTransport({ client, keyPrefix: `${prefix}events:` }),
    permissionStore: prismaPermissionStore({ prisma }),
    permissionCache: redisPermissionCache({ client, keyPrefix: `${prefix}perm:` }),
  };
}

const infrastructures: [string, boolean, () => Infrastructure][] = [
  ['memory', true, memoryInfrastructure],
  ['redis-pg', redis.available && db.available, redisPostgresInfrastructure],
];

for (const [label, available, infrastructure] of infrastructures) {
  describe.skipIf(!runnable || !available)(`console in Chromium (${label})`, () => {
    let browser: Browser;
    let walk: Parameters<typeof walkFlags>[1];
    let operator: Awaited<ReturnType<typeof pageAs>>;

    beforeAll(async () => {
      const services = await buildServices(infrastructure());
      const server = await serveConsole(services.handler);
      browser = await launchChromium();
      walk = { browser, services, server, label };
      operator = await pageAs(browser, OPERATOR);
    }, 300_000);

    afterAll(async () => {
      await operator?.close();
      await browser?.close();
      await walk?.server.close();
      await walk?.services.close();
    }, 120_000);

    it(
      'flags: toggle, another instance follows, evaluate with the reason',
      () => walkFlags(operator, walk),
      300_000,
    );
    it('config: schema validation, a set appearing live', () => walkConfig(operator, walk), 300_000);
    it(
      'events: stream length and groups; a dead letter inspected, replayed, another deleted',
      () => walkEvents(operator, walk),
      300_000,
    );
    it('delivery: recent sends and the provider switch', () => walkDelivery(operator, walk), 300_000);
    it('otp: counts per purpose without codes or destinations', () => walkOtp(operator, walk), 300_000);
    it(
      'permissions: grant a role and the explanation changes',
      () => walkPermissions(operator, walk),
      300_000,
    );
    it('a reader without console:write sees read-only pages and gets 403', () => walkReadOnly(walk), 300_000);
    it('a forged cross-site write is refused', () => walkForgery(walk), 300_000);
  });
}
