import { createHmac, timingSafeEqual } from 'node:crypto';
import { SmsError, SmsErrorCode } from '../errors.js';
import type { SmsStatus, SmsStatusRecord, SmsStatusRecordResult, SmsStatusUpdate } from '../types.js';

/**
 * Maps a Twilio message status to an {@link SmsStatus}; `undefined` for inbound statuses (`receiving`,
 * `received`) and unknown ones.
 *
 * @example
 * ```ts
 * mapTwilioStatus('accepted'); // 'queued'
 * mapTwilioStatus('read'); // 'delivered'
 * ```
 */
export function mapTwilioStatus(status: unknown): SmsStatus | undefined {
  switch (status) {
    case 'accepted':
    case 'scheduled':
    case 'queued':
      return 'queued';
    case 'sending':
      return 'sending';
    case 'sent':
      return 'sent';
    case 'delivered':
    case 'read':
      return 'delivered';
    case 'undelivered':
      return 'undelivered';
    case 'failed':
    case 'canceled':
      return 'failed';
    default:
      return undefined;
  }
}

/** Twilio's webhook signature algorithms: the legacy auth-token HMAC-SHA1, or HMAC-SHA256. */
export type TwilioSignatureAlgorithm = 'HMAC_SHA1' | 'HMAC_SHA256';

/** Form parameters of a callback: one value, or several for a repeated name. */
export type TwilioParams = Readonly<Record<string, string | readonly string[]>>;

/**
 * Computes the `X-Twilio-Signature` of a request: HMAC of the full URL followed by every POST parameter
 * name and value, sorted by name, keyed by the auth token, base64-encoded.
 *
 * @example
 * ```ts
 * const signature = computeTwilioSignature(authToken, 'https://example.com/status', { MessageSid: 'SM1' });
 * ```
 */
export function computeTwilioSignature(
  authToken: string,
  url: string,
  params: TwilioParams,
  algorithm: TwilioSignatureAlgorithm = 'HMAC_SHA1',
): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name] as string | readonly string[];
    if (typeof value === 'string') data += name + value;
    else for (const v of [...new Set(value)].sort()) data += name + v;
  }
  return createHmac(algorithm === 'HMAC_SHA256' ? 'sha256' : 'sha1', authToken)
    .update(data, 'utf8')
    .digest('base64');
}

/** What {@link verifyTwilioSignature} checks. */
export interface TwilioSignatureCheck {
  /** The auth token of the account the callback is for. */
  authToken: string;
  /** The full URL Twilio requested (scheme, host, path and query), as configured in the callback URL. */
  url: string;
  /** The POST form parameters. */
  params: TwilioParams;
  /** The `X-Twilio-Signature` header. */
  signature: string | null | undefined;
  /** The `algorithm=` of the `X-Twilio-Webhooks-Signature-Settings` header. @default 'HMAC_SHA1' */
  algorithm?: TwilioSignatureAlgorithm;
}

/**
 * Tells whether a callback was signed by Twilio with `authToken`. The URL is tried as given and with the
 * default port added or removed (Twilio signs the URL as configured). Comparison is constant-time.
 *
 * @example
 * ```ts
 * const ok = verifyTwilioSignature({ authToken, url, params: Object.fromEntries(form), signature: req.headers['x-twilio-signature'] });
 * ```
 */
export function verifyTwilioSignature(check: TwilioSignatureCheck): boolean {
  const { authToken, url, params, signature, algorithm = 'HMAC_SHA1' } = check;
  if (
    typeof signature !== 'string' ||
    signature.length === 0 ||
    typeof authToken !== 'string' ||
    !authToken
  ) {
    return false;
  }
  const given = Buffer.from(signature);
  let valid = false;
  for (const candidate of urlVariants(url)) {
    const expected = Buffer.from(computeTwilioSignature(authToken, candidate, params, algorithm));
    // Check every variant, so the time taken does not tell which one matched.
    if (expected.length === given.length && timingSafeEqual(expected, given)) valid = true;
  }
  return valid;
}

/**
 * Reads a Twilio message status callback into a status update. Throws `SmsError(INVALID_CALLBACK)` when
 * there is no `MessageSid`; answers `undefined` for statuses that are not about an outbound message.
 *
 * @example
 * ```ts
 * parseTwilioStatusCallback({ MessageSid: 'SM1', MessageStatus: 'delivered', To: '+14155550123' });
 * // { id: 'SM1', status: 'delivered', to: '+14155550123', provider: 'twilio' }
 * ```
 */
export function parseTwilioStatusCallback(
  params: TwilioParams,
  provider = 'twilio',
): SmsStatusUpdate | undefined {
  const id = first(params.MessageSid) ?? first(params.SmsSid);
  if (!id) throw new SmsError(SmsErrorCode.INVALID_CALLBACK, 'the callback has no MessageSid');
  const raw = first(params.MessageStatus) ?? first(params.SmsStatus);
  const status = mapTwilioStatus(raw);
  if (status === undefined) return undefined;
  const update: SmsStatusUpdate = { id, status, provider };
  const to = first(params.To);
  if (to) update.to = to;
  const errorCode = first(params.ErrorCode);
  if (errorCode) update.errorCode = errorCode;
  return update;
}

/** A callback request, independent of the web framework. */
export interface TwilioCallbackRequest {
  /** The full URL Twilio requested. Ignored when the handler has a fixed `url`. */
  url: string;
  /** The `X-Twilio-Signature` header. */
  signature: string | null | undefined;
  /** The `X-Twilio-Webhooks-Signature-Settings` header, when present. */
  signatureSettings?: string | null;
  /** The POST form parameters. */
  params: TwilioParams;
}

/** What handling a callback did. */
export type TwilioCallbackResult =
  | { outcome: 'recorded' | 'duplicate'; record: SmsStatusRecord }
  | { outcome: 'ignored' };

/** Options of {@link twilioStatusCallbackHandler}. */
export interface TwilioStatusCallbackOptions {
  /** The auth token callbacks are signed with. */
  authToken: string;
  /** Where updates go: the SMS service (`createSmsService(...)`) or anything with `recordStatus`. */
  service: { recordStatus(update: SmsStatusUpdate): Promise<SmsStatusRecordResult> };
  /**
   * The public URL Twilio posts to, exactly as given in `statusCallbackUrl`. Set it when a proxy changes
   * the scheme or host the server sees. @default undefined (the request's own URL)
   */
  url?: string;
  /** The provider name recorded with each update. @default 'twilio' */
  provider?: string;
}

/** Verifies, parses and records Twilio status callbacks; `fetch` fits Hono, Next.js, Bun and Deno routes. */
export interface TwilioStatusCallbackHandler {
  /** Handles a parsed request; throws `SmsError(INVALID_SIGNATURE)` on a forged or unsigned one. */
  handle(request: TwilioCallbackRequest): Promise<TwilioCallbackResult>;
  /** Handles a fetch `Request`: 204 when accepted, 403 on a bad signature, 400 when malformed, 405 unless POST. */
  fetch(request: Request): Promise<Response>;
}

/**
 * Creates the handler for Twilio's message status callbacks: it checks `X-Twilio-Signature`, maps
 * `MessageStatus` (queued, sent, delivered, undelivered, failed...) and records it through the service,
 * which forwards `sms.delivered`, `sms.failed`... to its event sink. Replayed or late callbacks are
 * harmless: a status never moves back and a duplicate is not forwarded again.
 *
 * @example
 * ```ts
 * const statusCallback = twilioStatusCallbackHandler({ authToken, service: sms, url: 'https://example.com/twilio/status' });
 * app.post('/twilio/status', (c) => statusCallback.fetch(c.req.raw)); // Hono
 * ```
 */
export function twilioStatusCallbackHandler(
  options: TwilioStatusCallbackOptions,
): TwilioStatusCallbackHandler {
  if (typeof options?.authToken !== 'string' || options.authToken.length === 0) {
    throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'twilioStatusCallbackHandler needs the authToken');
  }
  if (typeof options.service?.recordStatus !== 'function') {
    throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'twilioStatusCallbackHandler needs the SMS service');
  }
  const provider = options.provider ?? 'twilio';

  async function handle(request: TwilioCallbackRequest): Promise<TwilioCallbackResult> {
    const algorithm = algorithmOf(request.signatureSettings);
    const valid =
      algorithm !== undefined &&
      verifyTwilioSignature({
        authToken: options.authToken,
        url: options.url ?? request.url,
        params: request.params,
        signature: request.signature,
        algorithm,
      });
    if (!valid) throw new SmsError(SmsErrorCode.INVALID_SIGNATURE, 'the Twilio signature does not match');
    const update = parseTwilioStatusCallback(request.params, provider);
    if (!update) return { outcome: 'ignored' };
    const { applied, record } = await options.service.recordStatus(update);
    return { outcome: applied ? 'recorded' : 'duplicate', record };
  }

  return {
    handle,
    async fetch(request) {
      if (request.method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST' } });
      const params: Record<string, string | string[]> = {};
      try {
        for (const [name, value] of new URLSearchParams(await request.text())) {
          const prev = params[name];
          params[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
        }
        await handle({
          url: request.url,
          signature: request.headers.get('x-twilio-signature'),
          signatureSettings: request.headers.get('x-twilio-webhooks-signature-settings'),
          params,
        });
      } catch (error) {
        if (error instanceof SmsError && error.code === SmsErrorCode.INVALID_SIGNATURE) {
          return new Response('invalid signature', { status: 403 });
        }
        if (error instanceof SmsError && error.code === SmsErrorCode.INVALID_CALLBACK) {
          return new Response('invalid callback', { status: 400 });
        }
        throw error;
      }
      return new Response(null, { status: 204 });
    },
  };
}

function algorithmOf(settings: string | null | undefined): TwilioSignatureAlgorithm | undefined {
  for (const part of (settings ?? '').split(',')) {
    const [key, value] = part.split('=').map((s) => s.trim());
    if (key === 'algorithm' && value) {
      const upper = value.toUpperCase();
      return upper === 'HMAC_SHA1' || upper === 'HMAC_SHA256' ? upper : undefined;
    }
  }
  return 'HMAC_SHA1';
}

function first(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}

function urlVariants(url: string): string[] {
  const variants = [url];
  const match = /^(https?:\/\/)([^/?#]*)(.*)$/i.exec(url);
  if (!match) return variants;
  const [, scheme = '', authority = '', rest = ''] = match;
  const defaultPort = scheme.toLowerCase() === 'https://' ? '443' : '80';
  const portMatch = /^(.*?)(?::(\d+))?$/.exec(authority);
  const host = portMatch?.[1] ?? authority;
  const port = portMatch?.[2];
  if (port === undefined) variants.push(`${scheme}${host}:${defaultPort}${rest}`);
  else if (port === defaultPort) variants.push(`${scheme}${host}${rest}`);
  return variants;
}
