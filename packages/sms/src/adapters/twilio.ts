import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { closeable } from '@app/core';
import { isNetworkError, parseRetryAfter } from '@app/delivery';
import twilio from 'twilio';
import type TwilioRequestClientBase from 'twilio/lib/base/RequestClient.js';
import type TwilioResponse from 'twilio/lib/http/response.js';
import { isSmsError, SmsError, SmsErrorCode } from '../errors.js';
import type { SmsProvider, SmsSendOptions, SmsSendResult } from '../types.js';
import { DEFAULT_MAX_BODY_LENGTH, isHttpUrl, isSender, validateSms } from '../validation.js';
import { mapTwilioStatus } from './twilio-webhook.js';

// The status webhook (signature check, status mapping, the callback handler) ships with the provider.
export * from './twilio-webhook.js';

/** The parameters this provider passes to `client.messages.create`. */
export interface TwilioCreateMessageParams {
  to: string;
  body: string;
  from?: string;
  messagingServiceSid?: string;
  statusCallback?: string;
}

/** The part of a Twilio client this provider uses: any `twilio(...)` instance fits. */
export interface TwilioMessagesClient {
  messages: {
    create(params: TwilioCreateMessageParams): Promise<{ sid: string; status: string }>;
  };
}

interface TwilioCommonOptions {
  /** The provider's name in results, logs and config. @default 'twilio' */
  name?: string;
  /** Default sender: an E.164 number or an alphanumeric sender id. One of `from` or `messagingServiceSid` is required, here or per message. @default undefined */
  from?: string;
  /** Messaging Service SID (`MG...`) to send through instead of (or with) a `from` number. @default undefined */
  messagingServiceSid?: string;
  /** Where Twilio posts delivery statuses (see `twilioStatusCallbackHandler`). @default undefined */
  statusCallbackUrl?: string;
  /** Longest body accepted, in characters. @default 1600 */
  maxBodyLength?: number;
}

/** Options of {@link twilioProvider} when it builds the Twilio client itself. */
export interface TwilioCredentialsOptions extends TwilioCommonOptions, TwilioHttpClientOptions {
  /** Account SID (`AC...`). */
  accountSid: string;
  /** Auth token (or API key secret when `apiKeySid` is given). */
  authToken: string;
  /** An API key SID (`SK...`) to authenticate with instead of the account SID. @default undefined */
  apiKeySid?: string;
  /** Twilio edge location, e.g. `sydney`. @default undefined (Twilio's default) */
  edge?: string;
  /** Twilio region, e.g. `au1`. @default undefined (Twilio's default) */
  region?: string;
}

/** Options of {@link twilioProvider} when you pass your own Twilio client. */
export interface TwilioClientOptions extends TwilioCommonOptions {
  /**
   * Your Twilio client (`twilio(accountSid, authToken)`). Build it with `httpClient: twilioHttpClient()` so
   * that Retry-After headers of 429 responses are honoured. The provider never closes it.
   */
  client: TwilioMessagesClient;
}

/** Options of {@link twilioProvider}: your own client, or the credentials to build one. */
export type TwilioProviderOptions = TwilioClientOptions | TwilioCredentialsOptions;

/** Options of {@link twilioHttpClient}. */
export interface TwilioHttpClientOptions {
  /** Request timeout, in ms. A timeout counts as a transient failure. @default 10000 */
  timeoutMs?: number;
  /**
   * Sends every Twilio API request to this origin (and path prefix) instead of `https://api.twilio.com`,
   * keeping the path the SDK built: for a proxy, a mock server, or tests. @default undefined
   */
  apiBaseUrl?: string;
  /** Sockets kept per host. @default 20 */
  maxSockets?: number;
}

/** The SDK's request client, as returned by {@link twilioHttpClient}. */
export type TwilioHttpClient = TwilioRequestClientBase & { destroy(): void };

/**
 * Creates an HTTP client for the Twilio SDK that turns a 429 carrying `Retry-After` into an
 * `SmsError(RATE_LIMITED)` with `retryAfterMs` (the SDK's own exception drops headers), applies a timeout,
 * and can send requests to another base URL. `twilioProvider` uses one when it builds the client.
 *
 * @example
 * ```ts
 * const client = twilio(accountSid, authToken, { httpClient: twilioHttpClient({ timeoutMs: 5000 }) });
 * const sms = twilioProvider({ client, from: '+14155550100' });
 * ```
 */
export function twilioHttpClient(options: TwilioHttpClientOptions = {}): TwilioHttpClient {
  if (options.apiBaseUrl !== undefined && !isHttpUrl(options.apiBaseUrl)) {
    throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'apiBaseUrl must be an absolute http(s) URL');
  }
  const timeout = options.timeoutMs ?? 10_000;
  const maxSockets = options.maxSockets ?? 20;
  const base = options.apiBaseUrl === undefined ? undefined : new URL(options.apiBaseUrl);

  class SmsTwilioRequestClient extends twilio.RequestClient {
    constructor() {
      super({ timeout, keepAlive: true, maxSockets });
      // Our own agents, so destroy() frees every socket this client opened.
      this.axios.defaults.httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets, timeout });
      this.axios.defaults.httpAgent = new HttpAgent({ keepAlive: true, maxSockets, timeout });
    }

    override async request<TData>(
      opts: TwilioRequestClientBase.RequestOptions<TData>,
    ): Promise<TwilioResponse<TData>> {
      const uri = base ? rebase(opts.uri, base) : opts.uri;
      const response = await super.request({ ...opts, uri });
      if (response.statusCode === 429 || response.statusCode === 503) {
        const retryAfterMs = parseRetryAfter(headerOf(response.headers, 'retry-after'));
        if (retryAfterMs !== undefined) {
          const code = bodyCode(response.body);
          throw new SmsError(
            response.statusCode === 429 ? SmsErrorCode.RATE_LIMITED : SmsErrorCode.PROVIDER_UNAVAILABLE,
            `Twilio answered HTTP ${response.statusCode}${code === undefined ? '' : ` (code ${code})`}; retry after ${retryAfterMs} ms`,
            { status: response.statusCode, providerCode: code, retryAfterMs },
          );
        }
      }
      return response;
    }

    destroy(): void {
      (this.axios.defaults.httpsAgent as HttpsAgent).destroy();
      (this.axios.defaults.httpAgent as HttpAgent).destroy();
    }
  }
  return new SmsTwilioRequestClient();
}

/**
 * Creates an {@link SmsProvider} on the official `twilio` SDK. Errors become `SmsError`s the service can
 * act on: 429/20429 `RATE_LIMITED` and 5xx/network/timeout `PROVIDER_UNAVAILABLE` (retried), 20003/401
 * `PROVIDER_AUTH_FAILED` and an unusable sender `PROVIDER_MISCONFIGURED` (failed over), an invalid or
 * unreachable recipient `RECIPIENT_REJECTED` (permanent).
 *
 * @example
 * ```ts
 * import { twilioProvider } from '@app/sms/twilio';
 * const provider = twilioProvider({
 *   accountSid: process.env.TWILIO_ACCOUNT_SID!,
 *   authToken: process.env.TWILIO_AUTH_TOKEN!,
 *   from: '+14155550100',
 *   statusCallbackUrl: 'https://example.com/webhooks/twilio/status',
 * });
 * ```
 */
export function twilioProvider(options: TwilioProviderOptions): SmsProvider {
  const name = options.name ?? 'twilio';
  const maxBodyLength = options.maxBodyLength ?? DEFAULT_MAX_BODY_LENGTH;
  checkCommon(options);
  let client: TwilioMessagesClient;
  let httpClient: TwilioHttpClient | undefined;
  if ('client' in options && options.client !== undefined) {
    if (typeof options.client?.messages?.create !== 'function') {
      throw new SmsError(
        SmsErrorCode.INVALID_OPTIONS,
        'client must be a Twilio client (client.messages.create)',
      );
    }
    client = options.client;
  } else {
    const creds = options as TwilioCredentialsOptions;
    if (typeof creds.accountSid !== 'string' || !/^AC[0-9a-fA-F]{32}$/.test(creds.accountSid)) {
      throw new SmsError(
        SmsErrorCode.INVALID_OPTIONS,
        'accountSid must be a Twilio account SID (AC + 32 hex)',
      );
    }
    if (typeof creds.authToken !== 'string' || creds.authToken.length === 0) {
      throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'authToken is required');
    }
    httpClient = twilioHttpClient(creds);
    const username = creds.apiKeySid ?? creds.accountSid;
    client = twilio(username, creds.authToken, {
      accountSid: creds.accountSid,
      httpClient,
      edge: creds.edge,
      region: creds.region,
    }) as unknown as TwilioMessagesClient;
  }

  return closeable(
    {
      name,
      async send(to: string, body: string, sendOptions?: SmsSendOptions): Promise<SmsSendResult> {
        validateSms(to, body, sendOptions, { maxBodyLength });
        const from = sendOptions?.from ?? options.from;
        if (from === undefined && options.messagingServiceSid === undefined) {
          throw new SmsError(
            SmsErrorCode.MISSING_SENDER,
            `provider '${name}' needs a 'from' number or a messagingServiceSid`,
            { provider: name },
          );
        }
        const params: TwilioCreateMessageParams = { to, body };
        if (from !== undefined) params.from = from;
        if (options.messagingServiceSid !== undefined)
          params.messagingServiceSid = options.messagingServiceSid;
        const statusCallback = sendOptions?.statusCallbackUrl ?? options.statusCallbackUrl;
        if (statusCallback !== undefined) params.statusCallback = statusCallback;
        let message: { sid: string; status: string };
        try {
          message = await client.messages.create(params);
        } catch (error) {
          throw toTwilioSmsError(error, name);
        }
        return { id: message.sid, status: mapTwilioStatus(message.status) ?? 'queued', provider: name };
      },
    },
    async () => {
      httpClient?.destroy();
    },
  );
}

/** Twilio codes for a recipient that no provider could reach: invalid, not mobile, opted out, unroutable. */
const RECIPIENT_CODES = new Set([
  21211, 21214, 21217, 21219, 21265, 21407, 21408, 21421, 21610, 21612, 21614, 21635,
]);
/** Twilio codes for a sender or account this provider cannot use: another provider may succeed. */
const PROVIDER_CODES = new Set([20005, 20008, 20403, 21212, 21606, 21611, 21659, 21660, 21703, 21705]);
const AUTH_CODES = new Set([20003, 20006]);

/**
 * Turns an error of the Twilio SDK into an `SmsError` whose code says what the service should do.
 *
 * @example
 * ```ts
 * try { await client.messages.create(params); } catch (err) { throw toTwilioSmsError(err, 'twilio'); }
 * ```
 */
export function toTwilioSmsError(error: unknown, provider = 'twilio'): SmsError {
  if (isSmsError(error)) {
    return error.provider === provider
      ? error
      : new SmsError(error.code, error.message.replace(/^\[@app\/sms\] /, ''), {
          cause: error.cause,
          provider,
          status: error.status,
          providerCode: error.providerCode,
          retryAfterMs: error.retryAfterMs,
        });
  }
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    status?: unknown;
    code?: unknown;
  };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const code = typeof e.code === 'number' ? e.code : undefined;
  const details = { cause: error, provider, status, providerCode: code };
  const what = `Twilio answered${status === undefined ? '' : ` HTTP ${status}`}${code === undefined ? '' : ` (code ${code})`}`;
  if (code === 20429 || status === 429) {
    return new SmsError(SmsErrorCode.RATE_LIMITED, `${what}: rate limited`, details);
  }
  if (code !== undefined && AUTH_CODES.has(code)) {
    return new SmsError(SmsErrorCode.PROVIDER_AUTH_FAILED, `${what}: authentication failed`, details);
  }
  if (code !== undefined && RECIPIENT_CODES.has(code)) {
    return new SmsError(SmsErrorCode.RECIPIENT_REJECTED, `${what}: the recipient was rejected`, details);
  }
  if (code !== undefined && PROVIDER_CODES.has(code)) {
    return new SmsError(
      SmsErrorCode.PROVIDER_MISCONFIGURED,
      `${what}: the sender or account is unusable`,
      details,
    );
  }
  if (status === 401) {
    return new SmsError(SmsErrorCode.PROVIDER_AUTH_FAILED, `${what}: authentication failed`, details);
  }
  if (status !== undefined && status >= 500) {
    return new SmsError(SmsErrorCode.PROVIDER_UNAVAILABLE, `${what}: server error`, details);
  }
  if (status === 403) {
    return new SmsError(SmsErrorCode.PROVIDER_MISCONFIGURED, `${what}: forbidden`, details);
  }
  if (status !== undefined && status >= 400) {
    return new SmsError(SmsErrorCode.MESSAGE_REJECTED, `${what}: the message was rejected`, details);
  }
  if (isNetworkError(error)) {
    const reason = (error as { code?: unknown }).code;
    return new SmsError(
      SmsErrorCode.PROVIDER_UNAVAILABLE,
      `could not reach Twilio (${String(reason)})`,
      details,
    );
  }
  return new SmsError(
    SmsErrorCode.PROVIDER_FAILED,
    `Twilio call failed: ${(error as Error)?.message ?? String(error)}`,
    details,
  );
}

/** Every option of {@link twilioProvider}. */
const KNOWN_OPTIONS = [
  'name',
  'from',
  'messagingServiceSid',
  'statusCallbackUrl',
  'maxBodyLength',
  'client',
  'accountSid',
  'authToken',
  'apiKeySid',
  'edge',
  'region',
  'timeoutMs',
  'apiBaseUrl',
  'maxSockets',
];
/** What the options not checked elsewhere (SIDs, sender and URLs are) must be. */
const TYPE_CHECKS: Record<string, [(value: unknown) => boolean, string]> = {
  name: [isNonEmptyString, 'a non-empty string'],
  maxBodyLength: [isPositiveInteger, 'a positive integer'],
  apiKeySid: [isNonEmptyString, 'a non-empty string'],
  edge: [isNonEmptyString, 'a non-empty string'],
  region: [isNonEmptyString, 'a non-empty string'],
  timeoutMs: [(v) => typeof v === 'number' && Number.isFinite(v) && v > 0, 'a positive number'],
  maxSockets: [isPositiveInteger, 'a positive integer'],
};

function isNonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}

function isPositiveInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function checkCommon(options: TwilioCommonOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'twilioProvider needs options');
  }
  // Options may come from config (`providerFactories`): a misspelt or misplaced option is reported, not ignored.
  for (const [key, value] of Object.entries(options)) {
    if (!KNOWN_OPTIONS.includes(key)) {
      throw new SmsError(
        SmsErrorCode.INVALID_OPTIONS,
        `unknown option '${key}' (known: ${KNOWN_OPTIONS.join(', ')})`,
      );
    }
    const check = Object.hasOwn(TYPE_CHECKS, key) ? TYPE_CHECKS[key] : undefined;
    if (check && value !== undefined && !check[0](value)) {
      throw new SmsError(SmsErrorCode.INVALID_OPTIONS, `${key} must be ${check[1]}`);
    }
  }
  if (options.from !== undefined && !isSender(options.from)) {
    throw new SmsError(
      SmsErrorCode.INVALID_OPTIONS,
      'from must be an E.164 number or an alphanumeric sender id',
    );
  }
  if (options.messagingServiceSid !== undefined && !/^MG[0-9a-fA-F]{32}$/.test(options.messagingServiceSid)) {
    throw new SmsError(
      SmsErrorCode.INVALID_OPTIONS,
      'messagingServiceSid must be a Messaging Service SID (MG + 32 hex)',
    );
  }
  if (options.statusCallbackUrl !== undefined && !isHttpUrl(options.statusCallbackUrl)) {
    throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'statusCallbackUrl must be an absolute http(s) URL');
  }
}

function rebase(uri: string, base: URL): string {
  const target = new URL(uri);
  const prefix = base.pathname.replace(/\/+$/, '');
  return `${base.origin}${prefix}${target.pathname}${target.search}`;
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const h = headers as { get?: (n: string) => unknown } & Record<string, unknown>;
  const value = typeof h.get === 'function' ? h.get(name) : (h[name] ?? h[name.toLowerCase()]);
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

function bodyCode(body: unknown): number | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const code = (parsed as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
