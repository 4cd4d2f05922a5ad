import { requireDatabase } from '@app/test-harness/database';
import { prismaDialectSuite } from './prisma.fixture.js';

// SQLite: a file of this test file's own, removed after the file, with the tables of the migration the
// package ships (prisma/sqlite/migrations): the migration is tested by applying it.
prismaDialectSuite(await requireDatabase('sqlite', { shipped: ['otp'] }));
