import { requireDatabase } from '@app/test-harness/database';
import { prismaStoreSuite } from './prisma-store.fixture.js';

// Its own database, with the migration this package ships for MySQL/MariaDB applied. Inheritance writes run
// one at a time (see the store's doc comment): the race test's thousand queue for a pool of 5 connections,
// longer than the driver's default 10 s on a busy machine.
prismaStoreSuite(await requireDatabase('mysql', { shipped: ['permissions'], acquireTimeoutMs: 120_000 }));
