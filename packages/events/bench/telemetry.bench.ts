// (a) What telemetry costs a publish: the bus with `@opentelemetry/api` installed but no SDK registered, and
// with an SDK whose exporters drop everything, against `telemetry: false` (nothing loaded). In-memory
// transport, so the bus's own cost is all there is to see. Variants interleaved, rotating order, one ratio
// per round, median over rounds.
// (b) Outbox relay throughput on PostgreSQL, MariaDB and SQLite, as a ratio to a bare single-statement round
// trip (`SELECT 1`) through the same PrismaClient and driver adapter: relayed events/s / statements/s.
// Records bench/results.json (recordBenchResults) and the "Telemetry and outbox" section of RESULTS.md.
// Run: pnpm --filter @app/events bench:telemetry   (DATABASE_URL, MARIADB_URL as the tests)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchMeasure, median, noopOtelProviders, recordBenchResults } from '@app/test-harness/bench';
import { requireDatabase, type TestDialect } from '@app/test-harness/database';
import { memoryEventTransport } from '../src/adapters/memory.js';
import { type PrismaRelayClient, prismaOutbox, prismaOutboxRelay } from '../src/adapters/prisma.js';
import { createEventBus, type EventBus } from '../src/index.js';

const here = import.meta.dirname;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 151);
const OPS = Number(process.env.BENCH_OPS ?? 4_000);
const ROWS = Number(process.env.BENCH_ROWS ?? 2_000);
const RELAY_ROUNDS = Number(process.env.BENCH_RELAY_ROUNDS ?? 5);

// ---- (a) publish ----
type Events = { 'order.placed': { orderId: string; total: number } };
const { tracerProvider, meterProvider, shutdown: shutdownSdk } = noopOtelProviders();
const variants: Record<string, () => EventBus<Events>> = {
  'telemetry: false': () =>
    createEventBus<Events>({ transport: memoryEventTransport({ maxLen: 1000 }), telemetry: false }),
  'API installed, no SDK': () =>
    createEventBus<Events>({ transport: memoryEventTransport({ maxLen: 1000 }) }),
  'SDK, no-op exporters': () =>
    createEventBus<Events>({
      transport: memoryEventTransport({ maxLen: 1000 }),
      telemetry: { tracerProvider, meterProvider },
    }),
};
const names = Object.keys(variants);
const buses = Object.fromEntries(names.map((n) => [n, variants[n]!()])) as Record<string, EventBus<Events>>;
const data = { orderId: 'o1', total: 42 };

/**
 * Publishes per second of this process's CPU time (user + system): on a machine whose cores other work keeps
 * busy, wall time mostly measures the scheduler; CPU time measures what the publish costs.
 */
async function publishRate(bus: EventBus<Events>, ops: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < ops; i++) await bus.publish('order.placed', data);
  const used = process.cpuUsage(start);
  return ops / ((used.user + used.system) / 1e6);
}

for (const n of names) await publishRate(buses[n]!, OPS / 2); // warm-up
const ratios: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
const rates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]!);
  const r: Record<string, number> = {};
  for (const n of order) r[n] = await publishRate(buses[n]!, OPS);
  for (const n of names) {
    rates[n]!.push(r[n]!);
    ratios[n]!.push(r[n]! / r['telemetry: false']!);
  }
}
for (const bus of Object.values(buses)) await bus.close();
await shutdownSdk();

// ---- (b) outbox relay ----
/** Each database as the tests get it (its own schema, database or WAL file), with the shipped migrations. */
const DATABASES: Array<[TestDialect, string]> = [
  ['postgresql', 'PostgreSQL (@prisma/adapter-pg)'],
  ['mysql', 'MariaDB 10.11 (@prisma/adapter-mariadb)'],
  ['sqlite', 'SQLite (@prisma/adapter-better-sqlite3, WAL file)'],
];

const outbox = prismaOutbox<Events>({ telemetry: false });
async function relayRate(prisma: PrismaRelayClient): Promise<number> {
  for (let i = 0; i < ROWS; i += 500) {
    await prisma.$transaction((tx) =>
      outbox.publishMany(
        tx,
        Array.from({ length: Math.min(500, ROWS - i) }, (_, j) => ({
          name: 'order.placed' as const,
          data: { orderId: `o${i + j}`, total: j },
        })),
      ),
    );
  }
  const relay = prismaOutboxRelay({
    prisma,
    transport: memoryEventTransport({ maxLen: ROWS }),
    batchSize: 100,
    telemetry: false,
  });
  const start = performance.now();
  let relayed = 0;
  for (;;) {
    const n = await relay.runOnce();
    if (n === 0) break;
    relayed += n;
  }
  if (relayed !== ROWS) throw new Error(`relayed ${relayed} of ${ROWS}`);
  return relayed / ((performance.now() - start) / 1000);
}
async function bareRate(prisma: PrismaRelayClient): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < ROWS; i++) await prisma.$queryRawUnsafe('SELECT 1');
  return ROWS / ((performance.now() - start) / 1000);
}

const relayResults: Array<{ label: string; relay: number; bare: number; ratios: number[] }> = [];
for (const [provider, label] of DATABASES) {
  const db = await requireDatabase(provider, { shipped: ['events'] });
  if (!db.available) continue;
  try {
    const prisma = db.prisma<PrismaRelayClient>();
    await bareRate(prisma);
    const relay: number[] = [];
    const bare: number[] = [];
    for (let round = 0; round < RELAY_ROUNDS; round++) {
      if (round % 2 === 0) {
        bare.push(await bareRate(prisma));
        relay.push(await relayRate(prisma));
      } else {
        relay.push(await relayRate(prisma));
        bare.push(await bareRate(prisma));
      }
    }
    relayResults.push({
      label,
      relay: median(relay),
      bare: median(bare),
      ratios: relay.map((r, i) => r / bare[i]!),
    });
  } finally {
    await db.cleanup();
  }
}

// ---- record ----
const measures: BenchMeasure[] = [
  {
    measure: 'bus.publish (memory transport), @opentelemetry/api installed, no SDK registered',
    anchor: 'the same bus with telemetry: false',
    ratios: ratios['API installed, no SDK']!,
    target: 0.97,
    note: `CPU-time throughput ratio per round (${ROUNDS} interleaved rounds of ${OPS} awaited publishes)`,
  },
  {
    measure: 'bus.publish (memory transport), SDK registered with no-op exporters',
    anchor: 'the same bus with telemetry: false',
    ratios: ratios['SDK, no-op exporters']!,
    note: 'measured, no target: a producer span and a counter per publish',
  },
  ...relayResults.map((r) => ({
    measure: `outbox relay throughput, ${r.label}, batches of 100`,
    anchor: 'bare SELECT 1 round trips through the same PrismaClient',
    ratios: r.ratios,
    note: 'relayed events/s divided by statements/s: events relayed in the time of one bare round trip',
  })),
];
recordBenchResults(here, '@app/events', measures);

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(3)}-${Math.max(...xs).toFixed(3)}`;
const section = `<!-- telemetry.bench.ts: start -->
## Telemetry cost of a publish, and outbox relay throughput per database

Generated by \`pnpm --filter @app/events bench:telemetry\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}; also in
\`bench/results.json\`). Same shared 2-core machine: compare ratios.

**Publish with telemetry** (in-memory transport, so only the bus's own cost shows): ${ROUNDS} rounds, each
running ${fmt(OPS)} awaited \`bus.publish\` calls per variant, interleaved in rotating order; rates are per
second of the process's CPU time (wall time on this loaded machine mostly measures the scheduler); the ratio
is variant / \`telemetry: false\` per round (above 1 is faster).

| variant | publishes/s (median) | ratio to telemetry: false (median) | spread |
|---|---:|---:|---|
${names
  .map(
    (n) =>
      `| ${n} | ${fmt(median(rates[n]!))} | **${median(ratios[n]!).toFixed(3)}** | ${spread(ratios[n]!)}${n === 'API installed, no SDK' ? ` (target >= 0.97: ${median(ratios[n]!) >= 0.97 ? 'met' : 'MISSED'})` : ''} |`,
  )
  .join('\n')}

**Outbox relay** (${fmt(ROWS)} rows per round, batches of 100, to an in-memory transport; ${RELAY_ROUNDS} rounds
interleaved with the anchor): relayed events/s against bare \`SELECT 1\` round trips/s through the same
PrismaClient. PostgreSQL and MariaDB claim with \`FOR UPDATE SKIP LOCKED\` in one transaction per batch
(MariaDB then deletes row by row); SQLite claims with one \`UPDATE ... RETURNING\` and deletes by claim token.

| database | relayed events/s | bare statements/s | ratio (median) | spread |
|---|---:|---:|---:|---|
${relayResults.map((r) => `| ${r.label} | ${fmt(r.relay)} | ${fmt(r.bare)} | **${median(r.ratios).toFixed(2)}** | ${spread(r.ratios)} |`).join('\n')}
<!-- telemetry.bench.ts: end -->`;
const resultsMd = join(here, 'RESULTS.md');
const current = readFileSync(resultsMd, 'utf8');
const marked = /<!-- telemetry\.bench\.ts: start -->[\s\S]*<!-- telemetry\.bench\.ts: end -->/;
writeFileSync(
  resultsMd,
  marked.test(current) ? current.replace(marked, section) : `${current.trimEnd()}\n\n${section}\n`,
);
console.log(section);
