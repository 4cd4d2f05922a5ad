import { requireDatabase } from '@app/test-harness/database';
import { prismaDialectSuite } from './prisma.fixture.js';

// MariaDB 10.11 (MySQL dialect): a database of this file's own, dropped after the file. Tables from the
// shipped migration (prisma/mysql/migrations). The 1,000-call races queue on a pool of 5 connections: the
// pool's acquire timeout (10 s by default) is raised for a busy machine.
prismaDialectSuite(await requireDatabase('mysql', { shipped: ['otp'], acquireTimeoutMs: 120_000 }));
