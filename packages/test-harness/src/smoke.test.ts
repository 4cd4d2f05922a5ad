import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { requirePostgres, requireRedis, startRedisServer } from './index.js';
import { createTestPrisma } from './prisma.js';

const redis = await requireRedis();
const db = await requirePostgres();

describe.skipIf(!redis.available)('harness: real Redis', () => {
  it('round-trips a key under the file prefix', async () => {
    const client = redis.client();
    await client.set(`${redis.prefix}greeting`, 'hello');
    expect(await client.get(`${redis.prefix}greeting`)).toBe('hello');
  });

  it('runs a private redis-server that can be stopped and started again', async () => {
    const server = await startRedisServer();
    const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 20 });
    client.on('error', () => {});
    try {
      await client.set('k', 'v');
      await server.stop();
      await expect(client.get('k')).rejects.toThrow();
      await server.start();
      // A fresh server keeps nothing: the reconnected client sees an empty database.
      await expect.poll(() => client.get('k').catch(() => 'not-ready'), { timeout: 60_000 }).toBeNull();
    } finally {
      client.disconnect();
    }
  });
});

describe.skipIf(!db.available)('harness: real Postgres through the generated Prisma client', () => {
  it('writes and reads a row in the file schema', async () => {
    await db.query('CREATE TABLE harness_smoke (id SERIAL PRIMARY KEY, label TEXT NOT NULL)');
    const prisma = createTestPrisma(db);
    const created = await prisma.harnessSmoke.create({ data: { label: 'from prisma' } });
    const read = await prisma.harnessSmoke.findUnique({ where: { id: created.id } });
    expect(read?.label).toBe('from prisma');
    // The row is in this file's schema, not in public.
    const raw = await db.query<{ label: string }>(`SELECT label FROM "${db.schema}".harness_smoke`);
    expect(raw.rows).toEqual([{ label: 'from prisma' }]);
  });
});
