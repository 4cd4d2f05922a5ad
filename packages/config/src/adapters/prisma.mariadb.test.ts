import { requireDatabase } from '@app/test-harness/database';
import { prismaDialectSuite } from './prisma.fixture.js';

// MariaDB 10.11 (MySQL dialect): a database of this file's own, created from the migration the package
// ships (prisma/mysql/migrations), dropped after the file.
prismaDialectSuite(await requireDatabase('mysql', { shipped: ['config'] }), { concurrency: 100 });
