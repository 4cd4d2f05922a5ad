import { DELIVERY_ERROR_CODES } from '@app/delivery';

/**
 * The codes of {@link EmailError}, each with what it means; `errors.ts` builds the error kit from them
 * (`EmailErrorCode`, `EmailError`, the guard).
 */
export const EMAIL_ERROR_CODES = [
  // The codes of every delivery channel: INVALID_OPTIONS, INVALID_PROVIDER_CONFIG, ALL_PROVIDERS_FAILED,
  // UNKNOWN_PROVIDER, NO_PROVIDER, CLOSED (see @app/delivery's DELIVERY_ERROR_CODES).
  ...DELIVERY_ERROR_CODES,
  /** The message failed validation; nothing was sent. `issues` lists why. */
  'INVALID_MESSAGE',
  /** A provider call failed; `kind` says whether it was transient, provider-level or permanent. */
  'PROVIDER_ERROR',
  /** An idempotency key was reused for a different message. */
  'IDEMPOTENCY_CONFLICT',
  /** Another call with the same idempotency key is still sending and did not finish in time. */
  'IDEMPOTENCY_IN_PROGRESS',
  /**
   * A send with an idempotency key was still retrying when half of `lockMs` had passed: it stopped without
   * another attempt and freed the key, so the key never expires while this send could still go out.
   */
  'IDEMPOTENCY_TIMEOUT',
] as const;
