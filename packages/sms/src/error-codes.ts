import { DELIVERY_ERROR_CODES } from '@app/delivery';

/**
 * The codes of {@link SmsError}, each with what it means; `errors.ts` builds the error kit from them
 * (`SmsErrorCode`, `SmsError`, the guard).
 */
export const SMS_ERROR_CODES = [
  /** `to` (or `from`) is not an E.164 number such as `+14155550123`. Thrown before any I/O. */
  'INVALID_PHONE_NUMBER',
  /** The body is empty, not a string, or longer than the configured bound. Thrown before any I/O. */
  'INVALID_BODY',
  /** Neither a `from` number nor a messaging service was given to a provider that needs one. */
  'MISSING_SENDER',
  /** The provider asked us to slow down (HTTP 429, Twilio 20429). Retried, honouring `retryAfterMs`. */
  'RATE_LIMITED',
  /** The provider failed in a way worth retrying: 5xx, network error, timeout. */
  'PROVIDER_UNAVAILABLE',
  /** The provider refused our credentials (Twilio 20003, HTTP 401). Not retried; the next provider is tried. */
  'PROVIDER_AUTH_FAILED',
  /** This provider's account or sender is unusable (invalid `from`, suspended account). Fails over. */
  'PROVIDER_MISCONFIGURED',
  /** The provider failed in an unclassified way. Fails over without retrying. */
  'PROVIDER_FAILED',
  /** The provider rejected the recipient (Twilio 21211, 21614, 21610...). Permanent: never retried. */
  'RECIPIENT_REJECTED',
  /** The provider rejected the message itself (other 4xx). Permanent: never retried. */
  'MESSAGE_REJECTED',
  /** Another call with the same idempotency key is still sending. */
  'IDEMPOTENCY_IN_PROGRESS',
  /** The idempotency key was already used for a different recipient, sender or body. */
  'IDEMPOTENCY_KEY_REUSED',
  /**
   * A send with an idempotency key was still retrying when half of `idempotency.lockMs` had passed: it
   * stopped without another attempt and freed the key, so the key never expires while this send could
   * still go out. Permanent for this call; calling again later is safe.
   */
  'IDEMPOTENCY_TIMEOUT',
  /** A status callback's signature is missing or does not match. */
  'INVALID_SIGNATURE',
  /** A status callback is malformed (no message id, unknown status). */
  'INVALID_CALLBACK',
  // INVALID_OPTIONS, INVALID_PROVIDER_CONFIG, ALL_PROVIDERS_FAILED, UNKNOWN_PROVIDER, NO_PROVIDER, CLOSED:
  ...DELIVERY_ERROR_CODES,
] as const;
