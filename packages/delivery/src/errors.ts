import { defineErrors } from '@app/core';
import { DELIVERY_OWN_ERROR_CODES } from './error-codes.js';

const errors = defineErrors('@app/delivery', DELIVERY_OWN_ERROR_CODES);

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
