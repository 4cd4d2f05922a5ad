// Idempotency reservation throughput on PostgreSQL, MariaDB and SQLite through Prisma, each as a ratio to a
// bare single-statement round trip (`SELECT 1`) on the same client and driver, in one process run.
// Run: pnpm --filter @app/delivery bench. Writes bench/results.json (see recordBenchResults).
import { performance } from 'node:perf_hooks';
import {
  type BenchMeasure,
  recordBenchResults,
  requireMariaDb,
  requirePostgres,
  requireSqlite,
} from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { createTestPrismaMariaDb } from '@app/test-harness/prisma-mariadb';
import { createTestPrismaSqlite } from '@app/test-harness/prisma-sqlite';
import { expect, it } from 'vitest';
import { prismaIdempotencyStore } from '../src/adapters/prisma.js';
import type { PrismaDeliveryRawClient } from '../src/adapters/sql.js';

const RUNS = 5;
const CALLS = 300;

async function timed(fn: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < CALLS; i++) await fn(i);
  return performance.now() - started;
}

async function measure(name: string, prisma: PrismaDeliveryRawClient): Promise<BenchMeasure> {
  const store = prismaIdempotencyStore({ prisma });
  for (let i = 0; i < 50; i++) await store.reserve(`warm-${i}`, 'fp', 60_000); // warm the pool
  const ratios: number[] = [];
  const perCall: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const anchor = await timed(() => prisma.$queryRawUnsafe('SELECT 1'));
    const ours = await timed((i) => store.reserve(`bench-${run}-${i}`, 'fp', 60_000));
    ratios.push(anchor / ours);
    perCall.push(ours / CALLS);
  }
  const sorted = [...perCall].sort((a, b) => a - b);
  return {
    measure: `idempotency reserve (new key), ${name}`,
    anchor: `bare SELECT 1 round trip, same Prisma client (${name})`,
    ratios: ratios.map((r) => Number(r.toFixed(3))),
    note: `${CALLS} sequential calls per run; median ${sorted[sorted.length >> 1]?.toFixed(2)} ms per reservation`,
  };
}

const [pg, maria, sqlite] = await Promise.all([
  requirePostgres({ migrations: ['delivery'] }),
  requireMariaDb({ migrations: ['delivery'] }),
  requireSqlite({ migrations: ['delivery'] }),
]);

it('idempotency reservation throughput on the three databases', async () => {
  const measures: BenchMeasure[] = [];
  if (pg.available) measures.push(await measure('PostgreSQL', createTestPrisma(pg)));
  if (maria.available) measures.push(await measure('MariaDB 10.11', createTestPrismaMariaDb(maria)));
  if (sqlite.available)
    measures.push(await measure('SQLite (better-sqlite3)', createTestPrismaSqlite(sqlite)));
  expect(measures).toHaveLength(3);
  recordBenchResults(import.meta.dirname, '@app/delivery', measures);
  console.table(measures.map((m) => ({ measure: m.measure, ratios: m.ratios.join(' '), note: m.note })));
});
