import { idempotencyStoreContract } from '@app/delivery/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { pgIdempotencyStore } from './pg-idempotency.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
afterAll(() => pool.end());
const create = () => pgIdempotencyStore({ client: pool });
idempotencyStoreContract({ describe, it, expect, name: 'postgres', create });
