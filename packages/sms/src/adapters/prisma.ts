import { prismaIdempotencyStore, prismaStatusStore } from '@app/delivery/prisma';

export * from '@app/delivery/prisma';

/**
 * The shared Prisma idempotency store of `@app/delivery/prisma` (table `app_delivery_idempotency`), under its
 * former `@app/sms` name.
 *
 * @deprecated Use `prismaIdempotencyStore` (the same function).
 * @example
 * ```ts
 * const sms = createSmsService({ providers, idempotency: { store: prismaSmsIdempotencyStore({ prisma }) } });
 * ```
 */
export const prismaSmsIdempotencyStore = prismaIdempotencyStore;

/**
 * The shared Prisma status store of `@app/delivery/prisma` (tables `app_delivery_status` and
 * `app_delivery_status_event`, on PostgreSQL, MySQL/MariaDB or SQLite), under its former `@app/sms` name.
 *
 * @deprecated Use `prismaStatusStore` (the same function).
 * @example
 * ```ts
 * const sms = createSmsService({ providers, statusStore: prismaSmsStatusStore({ prisma }) });
 * ```
 */
export const prismaSmsStatusStore = prismaStatusStore;
