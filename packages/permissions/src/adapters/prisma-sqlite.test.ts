import { requireDatabase } from '@app/test-harness/database';
import { prismaStoreSuite } from './prisma-store.fixture.js';

// Its own temp file, with the migration this package ships for SQLite applied.
prismaStoreSuite(await requireDatabase('sqlite', { shipped: ['permissions'] }));
