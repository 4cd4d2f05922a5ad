import { requireDatabase } from '@app/test-harness/database';
import { prismaDialectSuite } from './prisma.fixture.js';

// SQLite: a file of this test file's own, created from the migration the package ships
// (prisma/sqlite/migrations), removed after the file.
prismaDialectSuite(await requireDatabase('sqlite', { shipped: ['config'] }));
