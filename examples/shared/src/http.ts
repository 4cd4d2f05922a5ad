import { isAppError } from '@app/core';
import { OtpErrorCode, RateLimitedError } from '@app/otp';

/** An error answer, the same shape as `@app/permissions`' middleware bodies. */
export interface HttpError {
  status: number;
  headers: Record<string, string>;
  body: { error: { status: number; code: string; message: string } };
}

const BAD_INPUT = new Set<string>([
  OtpErrorCode.INVALID_DESTINATION,
  OtpErrorCode.INVALID_INPUT,
  OtpErrorCode.INVALID_PURPOSE,
  OtpErrorCode.DESTINATION_REJECTED,
]);

function answer(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): HttpError {
  return { status, headers, body: { error: { status, code, message } } };
}

/**
 * Maps the typed errors of the services to HTTP: `RateLimitedError` -> 429 with `Retry-After`, bad input
 * (`@app/otp` INVALID_DESTINATION..., `@app/config` INVALID_VALUE) -> 400, a failed SMS delivery -> 502.
 * Anything else is `undefined`: let the framework answer 500 (and log it).
 *
 * @example
 * ```ts
 * const mapped = toHttpError(error);
 * if (mapped) return res.status(mapped.status).set(mapped.headers).json(mapped.body);
 * throw error;
 * ```
 */
export function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof RateLimitedError) {
    const seconds = Math.ceil(error.retryAfterMs / 1000);
    return answer(429, error.code, `too many codes requested; retry after ${seconds} s`, {
      'retry-after': String(seconds),
    });
  }
  if (isAppError(error, '@app/otp')) {
    if (BAD_INPUT.has(error.code))
      return answer(400, error.code, error.message.replace(/^\[@app\/otp\] /, ''));
    if (error.code === OtpErrorCode.DELIVERY_FAILED)
      return answer(502, error.code, 'the code could not be sent');
  }
  if (isAppError(error, '@app/config', 'INVALID_VALUE')) return answer(400, 'INVALID_VALUE', error.message);
  return undefined;
}

/**
 * The token of an `Authorization: Bearer <token>` header.
 *
 * @example
 * ```ts
 * const session = await app.auth.session(bearerToken(req.headers.authorization));
 * ```
 */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}
