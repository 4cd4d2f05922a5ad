import { describe, expect, it } from 'vitest';
import { idempotencyStoreContract, statusStoreContract } from '../testing.js';
import { prismaIdempotencyStore, prismaStatusStore } from './prisma.js';
import type { PrismaDeliveryRawClient } from './sql.js';

/** What the per-database test files give the shared Prisma suites. */
export interface PrismaSuiteSetup {
  /** `postgresql`, `mariadb` or `sqlite`: shown in the suite names. */
  name: string;
  /** Two clients on the test file's own database (the race runs across both). */
  prisma: PrismaDeliveryRawClient;
  other: PrismaDeliveryRawClient;
  /** Reads one column of a table straight from the database (not through Prisma): the raw probe. */
  column(table: string, column: string): Promise<string[]>;
}

/**
 * The contract suites of both Prisma stores, and the 1,000-reservation race across two clients, on one
 * database: every dialect's test file runs exactly this.
 */
export function prismaStoreSuites(setup: PrismaSuiteSetup): void {
  const { prisma, other } = setup;
  const t = { describe, it, expect };
  idempotencyStoreContract({
    ...t,
    name: `prisma on ${setup.name} (database clock)`,
    create: () => prismaIdempotencyStore({ prisma }),
    inspect: () => setup.column('app_delivery_idempotency', 'key'),
  });
  let now = Date.parse('2030-01-01T00:00:00.000Z');
  idempotencyStoreContract({
    ...t,
    name: `prisma on ${setup.name} (injected clock)`,
    create: () => prismaIdempotencyStore({ prisma, now: () => now }),
    advanceTime: (ms) => {
      now += ms;
    },
  });
  statusStoreContract({
    ...t,
    name: `prisma on ${setup.name}`,
    // 1,000 concurrent records queue for a pool of a few connections: give them time on a busy machine.
    create: () => prismaStatusStore({ prisma, maxWaitMs: 60_000 }),
    inspect: () => setup.column('app_delivery_status', 'message_id'),
  });

  it(`gives a key to exactly one of 1,000 concurrent reservations across two PrismaClients (${setup.name})`, async () => {
    const stores = [prismaIdempotencyStore({ prisma }), prismaIdempotencyStore({ prisma: other })];
    const all = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => (stores[i % 2] ?? stores[0])?.reserve('race-1', 'fp', 60_000)),
    );
    expect(all.filter((r) => r?.acquired === true)).toHaveLength(1);
    for (const r of all.filter((x) => x?.acquired === false)) {
      expect(r).toEqual({ acquired: false, existing: { state: 'pending', fingerprint: 'fp' } });
    }
    expect(
      (await setup.column('app_delivery_idempotency', 'key')).filter((k) => k === 'race-1'),
    ).toHaveLength(1);
  });

  it(`takes over an expired reservation once, and refuses the first holder's late completion (${setup.name})`, async () => {
    let at = Date.parse('2031-01-01T00:00:00.000Z');
    const store = prismaIdempotencyStore({ prisma, now: () => at });
    const first = await store.reserve('exp-1', 'fp1', 1000);
    if (!first.acquired) throw new Error('expected to acquire');
    at += 1000;
    const takers = await Promise.all(Array.from({ length: 50 }, () => store.reserve('exp-1', 'fp2', 1000)));
    const winner = takers.find((r) => r.acquired);
    expect(takers.filter((r) => r.acquired)).toHaveLength(1);
    await store.complete('exp-1', first.token, { id: 'late' }, 60_000);
    expect(await store.reserve('exp-1', 'fp2', 1000)).toEqual({
      acquired: false,
      existing: { state: 'pending', fingerprint: 'fp2' },
    });
    if (winner?.acquired) await store.complete('exp-1', winner.token, { id: 'm1' }, 60_000);
    expect(await store.reserve('exp-1', 'fp2', 1000)).toEqual({
      acquired: false,
      existing: { state: 'done', fingerprint: 'fp2', result: { id: 'm1' } },
    });
  });

  it(`purges expired keys and old statuses only (${setup.name})`, async () => {
    let at = Date.parse('2032-01-01T00:00:00.000Z');
    const idem = prismaIdempotencyStore({ prisma, now: () => at });
    await idem.reserve('purge-old', 'fp', 1000);
    await idem.reserve('purge-live', 'fp', 60_000);
    at += 2000;
    expect(await idem.purgeExpired()).toBeGreaterThanOrEqual(1);
    const keys = await setup.column('app_delivery_idempotency', 'key');
    expect(keys).not.toContain('purge-old');
    expect(keys).toContain('purge-live');
    const statuses = prismaStatusStore({ prisma });
    await statuses.record({ messageId: 'purge-m-old', eventId: 'e', status: 'sent', rank: 1, at: 1000 });
    await statuses.record({
      messageId: 'purge-m-new',
      eventId: 'e',
      status: 'sent',
      rank: 1,
      at: Date.now(),
    });
    expect(await statuses.purgeUpdatedBefore(new Date(2000))).toBe(1);
    expect(await statuses.get('purge-m-old')).toBeUndefined();
    expect(await setup.column('app_delivery_status_event', 'message_id')).not.toContain('purge-m-old');
    expect(await statuses.get('purge-m-new')).toBeDefined();
  });
}
