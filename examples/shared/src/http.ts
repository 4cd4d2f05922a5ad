import { isAppError } from '@app/core';
import { OtpErrorCode, RateLimitedError } from '@app/otp';

/**
 * An error answer: the examples' one error shape, `{ error: { status, code, message } }`, the same as
 * `@app/permissions`' middleware bodies. Every error of every example API has it (typed service errors,
 * malformed JSON, unknown routes, unexpected errors), and none carries a stack trace or a file path.
 */
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

/**
 * An answer in the one error shape.
 *
 * @example
 * ```ts
 * const { status, body } = httpError(404, 'NOT_FOUND', 'no such room');
 * return res.status(status).json(body);
 * ```
 */
export function httpError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): HttpError {
  return { status, headers, body: { error: { status, code, message } } };
}

const answer = httpError;

/** The codes of the 4xx a framework or its body parser raises itself, by status. */
const CLIENT_ERRORS: Record<number, [code: string, message: string]> = {
  400: ['BAD_REQUEST', 'bad request'],
  404: ['NOT_FOUND', 'not found'],
  405: ['METHOD_NOT_ALLOWED', 'method not allowed'],
  408: ['REQUEST_TIMEOUT', 'request timeout'],
  411: ['LENGTH_REQUIRED', 'length required'],
  413: ['PAYLOAD_TOO_LARGE', 'the request body is too large'],
  415: ['UNSUPPORTED_MEDIA_TYPE', 'unsupported content type'],
  431: ['HEADERS_TOO_LARGE', 'request headers too large'],
};

/** Body-parser errors of Express (`type`) and Fastify (`code`) that mean "the body is not JSON". */
const MALFORMED_JSON_TYPES = new Set(['entity.parse.failed']);
const MALFORMED_JSON_CODES = new Set(['FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY']);

/**
 * The answer to a malformed JSON request body: 400 `INVALID_JSON`.
 *
 * @example
 * ```ts
 * const parsed = await c.req.json().catch(() => undefined);
 * if (parsed === undefined) throw malformedJson(); // the error handler answers it with errorAnswer()
 * ```
 */
export function malformedJson(): Error & { status: 400; type: 'entity.parse.failed' } {
  return Object.assign(new Error('the request body is not valid JSON'), {
    status: 400 as const,
    type: 'entity.parse.failed' as const,
  });
}

/** A body-parser error, or one wrapping it as its `cause` (NestJS maps it to a `BadRequestException`). */
function isMalformedJson(error: unknown): boolean {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 3; depth++) {
    const { type, code, cause } = e as { type?: unknown; code?: unknown; cause?: unknown };
    if (MALFORMED_JSON_TYPES.has(String(type)) || MALFORMED_JSON_CODES.has(String(code))) return true;
    e = cause;
  }
  return false;
}

/** A 4xx the framework raised itself (body parser, Nest's HttpException, Hono's HTTPException...), mapped. */
function clientError(error: unknown): HttpError | undefined {
  if (typeof error !== 'object' || error === null || isAppError(error)) return undefined;
  const e = error as { status?: unknown; statusCode?: unknown; type?: unknown; code?: unknown };
  const status =
    typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || status < 400 || status > 499) return undefined;
  if (isMalformedJson(error)) return answer(400, 'INVALID_JSON', 'the request body is not valid JSON');
  const [code, message] = CLIENT_ERRORS[status] ?? ['BAD_REQUEST', 'bad request'];
  return answer(status, code, message);
}

/**
 * Every error as an answer in the one shape: the services' typed errors as {@link toHttpError} maps them, the
 * framework's own 4xx (malformed JSON -> 400 `INVALID_JSON`, body too large -> 413...), and anything else as
 * 500 `INTERNAL` with a fixed message (log the error itself: `unexpected` is true for those).
 *
 * @example
 * ```ts
 * app.use((error, req, res, next) => {
 *   const { status, headers, body, unexpected } = errorAnswer(error);
 *   if (unexpected) logger.error({ err: error }, 'unhandled error');
 *   res.status(status).set(headers).json(body);
 * });
 * ```
 */
export function errorAnswer(error: unknown): HttpError & { unexpected: boolean } {
  const known = toHttpError(error) ?? clientError(error);
  if (known) return { ...known, unexpected: false };
  return { ...answer(500, 'INTERNAL', 'internal error'), unexpected: true };
}

/**
 * The answer to a request no route matches: 404 `NOT_FOUND`, `no route for <METHOD> <path>`.
 *
 * @example
 * ```ts
 * app.use((req, res) => {
 *   const { status, body } = routeNotFound(req.method, req.path);
 *   res.status(status).json(body);
 * });
 * ```
 */
export function routeNotFound(method: string, path: string): HttpError {
  return answer(404, 'NOT_FOUND', `no route for ${method} ${path.split('?')[0]}`);
}

/**
 * Maps the typed errors of the services to HTTP: `RateLimitedError` -> 429 with `Retry-After`, bad input
 * (`@app/otp` INVALID_DESTINATION..., `@app/config` INVALID_VALUE) -> 400, a failed SMS delivery -> 502.
 * Anything else is `undefined` ({@link errorAnswer} maps every error).
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
