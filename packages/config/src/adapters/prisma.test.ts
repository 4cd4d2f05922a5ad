import { requireDatabase } from '@app/test-harness/database';
import { expect, it } from 'vitest';
import { prismaDialectSuite } from './prisma.fixture.js';
import { prismaConfigStore } from './prisma.js';

// PostgreSQL: a schema of this file's own, created from the migration the package ships (prisma/migrations),
// dropped after the file.
prismaDialectSuite(await requireDatabase('postgresql', { shipped: ['config'] }));

it('rejects a client without the ConfigEntry model before any I/O', () => {
  expect(() => prismaConfigStore({ prisma: {} as never })).toThrow(/ConfigEntry model/);
});
