import { defineErrors } from '@app/core';

const errors = defineErrors('@app/delivery', [
  /** A store factory was given unusable options. */
  'INVALID_OPTIONS',
  /** A key's holder kept committing and freeing it while the store read it: nothing could be answered. */
  'IDEMPOTENCY_IN_PROGRESS',
] as const);

/** Codes of {@link DeliveryError}. */
export const DeliveryErrorCode = errors.codes;
export type DeliveryErrorCode = keyof typeof DeliveryErrorCode;

/**
 * The error the shared stores of `@app/delivery` throw for their own failures (bad options). The services
 * (`@app/email`, `@app/sms`) throw their own classes.
 *
 * @example
 * ```ts
 * if (isDeliveryError(err, DeliveryErrorCode.INVALID_OPTIONS)) console.error(err.message);
 * ```
 */
export class DeliveryError extends errors.Base {}

/**
 * True for an error of `@app/delivery` (from any installed copy), optionally of one code.
 *
 * @example
 * ```ts
 * isDeliveryError(err, 'INVALID_OPTIONS');
 * ```
 */
export const isDeliveryError = errors.isOf(DeliveryError);
