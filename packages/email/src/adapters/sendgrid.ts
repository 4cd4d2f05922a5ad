import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { type Closeable, closeable } from '@app/core';
import { classifyHttpStatus, isNetworkError, parseRetryAfter } from '@app/delivery';
import { EmailError, EmailErrorCode, EmailProviderError } from '../errors.js';
import { placeholderSubstitutions } from '../placeholders.js';
import type { BulkItemResult, EmailAddress, EmailProvider, NormalizedEmail } from '../types.js';
import { checkOptions } from './check-options.js';

/** The part of `@sendgrid/mail`'s `MailService` this provider uses. */
export interface SendgridMailClient {
  send(data: object): Promise<[{ statusCode: number; headers: Record<string, unknown> }, unknown]>;
}

/** The part of `@sendgrid/client`'s `Client` used to point it at a host and bound its sockets. */
interface SendgridHttpClient {
  setDefaultRequest(key: string, value: unknown): unknown;
}

/** Options of {@link sendgridProvider}. */
export interface SendgridProviderOptions {
  /** Your SendGrid API key (`SG.xxx`). Required unless `client` is given. @default undefined */
  apiKey?: string;
  /**
   * A configured `MailService` from `@sendgrid/mail` (then `apiKey`, `baseUrl`, `timeoutMs`, `maxSockets` are not applied).
   * @default undefined (a `MailService` is created from `apiKey`)
   */
  client?: SendgridMailClient;
  /** The API host, e.g. `https://api.eu.sendgrid.com` for EU data residency. @default 'https://api.sendgrid.com' */
  baseUrl?: string;
  /** Per-request timeout, in ms; a timeout is a transient failure. @default 10000 */
  timeoutMs?: number;
  /** Most sockets open to SendGrid at once. @default 10 */
  maxSockets?: number;
  /** The provider name in results and config. @default 'sendgrid' */
  name?: string;
  /** Sends with `mail_settings.sandbox_mode` (validated by SendGrid, never delivered). @default false */
  sandbox?: boolean;
}

/** SendGrid accepts at most 1,000 recipients (to + cc + bcc across personalizations) per request. */
const MAX_RECIPIENTS_PER_REQUEST = 1000;
/** The custom arg that ties a webhook event to one recipient of a bulk request. */
export const SENDGRID_BULK_INDEX_ARG = 'app_email_idx';

const toSg = (a: EmailAddress) => (a.name ? { email: a.email, name: a.name } : { email: a.email });

function baseData(m: Omit<NormalizedEmail, 'to' | 'cc' | 'bcc'>, sandbox: boolean): Record<string, unknown> {
  const data: Record<string, unknown> = { from: toSg(m.from) };
  if (m.subject !== undefined) data.subject = m.subject;
  if (m.text) data.text = m.text;
  if (m.html) data.html = m.html;
  if (m.template) data.templateId = m.template.id;
  if (m.replyTo.length === 1) data.replyTo = toSg(m.replyTo[0] as EmailAddress);
  if (m.replyTo.length > 1) data.replyToList = m.replyTo.map(toSg);
  if (Object.keys(m.headers).length > 0) data.headers = m.headers;
  if (Object.keys(m.tags).length > 0) data.customArgs = m.tags;
  if (m.attachments.length > 0) {
    data.attachments = m.attachments.map((a) => {
      const att: Record<string, unknown> = {
        content: Buffer.from(a.content).toString('base64'),
        filename: a.filename,
        type: a.contentType ?? 'application/octet-stream',
        disposition: a.disposition ?? 'attachment',
      };
      // The v3 API's field is `content_id`; @sendgrid/mail passes attachment objects through as given.
      if (a.contentId) att.content_id = a.contentId;
      return att;
    });
  }
  if (sandbox) data.mailSettings = { sandboxMode: { enable: true } };
  return data;
}

/**
 * Settles like `work`, or rejects with the signal's reason as soon as it aborts. `@sendgrid/mail` takes no
 * per-request signal, so a request already on the wire is left to finish in the background; the caller is
 * released at once, and the service starts no retry or failover after an abort.
 */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Maps a `@sendgrid/mail` failure to an {@link EmailProviderError}: 429 and 5xx transient (with the wait
 * from `Retry-After` or `X-RateLimit-Reset`), 401/403 provider-level, other 4xx permanent, no answer transient.
 *
 * @example
 * ```ts
 * try { await mail.send(data); } catch (err) { throw toSendgridError(err); }
 * ```
 */
export function toSendgridError(error: unknown, provider = 'sendgrid'): EmailProviderError {
  const e = error as {
    code?: unknown;
    message?: string;
    response?: {
      headers?: Record<string, unknown>;
      body?: { errors?: Array<{ message?: string; field?: string }> };
    };
  };
  if (typeof e?.code === 'number' && e.response) {
    const headers = e.response.headers ?? {};
    const detail = e.response.body?.errors
      ?.map((x) => [x.field, x.message].filter(Boolean).join(': '))
      .join('; ');
    return new EmailProviderError(
      provider,
      classifyHttpStatus(e.code),
      `HTTP ${e.code}${detail ? ` (${detail})` : ''}`,
      {
        cause: error,
        statusCode: e.code,
        retryAfterMs: parseRetryAfter(headers['retry-after'], headers['x-ratelimit-reset']),
      },
    );
  }
  if (isNetworkError(error)) {
    return new EmailProviderError(provider, 'transient', `no answer (${e?.message ?? 'network error'})`, {
      cause: error,
    });
  }
  // Thrown by the SDK's own payload checks: the request itself is wrong.
  return new EmailProviderError(provider, 'permanent', e?.message ?? String(error), { cause: error });
}

/**
 * An email provider on `@sendgrid/mail` (v8). Bulk sends put up to 1,000 recipients in one request, one
 * personalization each, so 10,000 recipients take 10 requests.
 *
 * @example
 * ```ts
 * import { sendgridProvider } from '@app/email/sendgrid';
 * const sendgrid = sendgridProvider({ apiKey: process.env.SENDGRID_API_KEY });
 * const email = createEmailService({ providers: { sendgrid }, defaultFrom: 'app@example.com' });
 * ```
 */
export function sendgridProvider(options: SendgridProviderOptions): EmailProvider {
  // Options may come from config (`providerFactories`): check them before anything is created.
  checkOptions('sendgrid', options, {
    apiKey: 'string',
    client: 'object',
    baseUrl: 'url',
    timeoutMs: 'positive',
    maxSockets: 'count',
    name: 'string',
    sandbox: 'boolean',
  });
  const name = options.name ?? 'sendgrid';
  if (!options.client && !options.apiKey) {
    throw new EmailError(
      EmailErrorCode.INVALID_OPTIONS,
      `[${name}] missing required option 'apiKey' (or 'client')`,
    );
  }
  const sandbox = options.sandbox ?? false;
  let agents: { http: HttpAgent; https: HttpsAgent } | undefined;
  let clientPromise: Promise<SendgridMailClient> | undefined;

  async function createClient(): Promise<SendgridMailClient> {
    const mod = (await import('@sendgrid/mail')) as unknown as {
      MailService?: new () => SendgridMailClient;
      default?: { MailService?: new () => SendgridMailClient };
    };
    const MailService = mod.MailService ?? mod.default?.MailService;
    if (!MailService)
      throw new EmailError(EmailErrorCode.INVALID_OPTIONS, '@sendgrid/mail has no MailService export');
    const mail = new MailService() as SendgridMailClient & {
      setApiKey(key: string): void;
      client: SendgridHttpClient;
    };
    mail.setApiKey(options.apiKey as string);
    const maxSockets = options.maxSockets ?? 10;
    agents = {
      http: new HttpAgent({ keepAlive: true, maxSockets }),
      https: new HttpsAgent({ keepAlive: true, maxSockets }),
    };
    // setApiKey resets the base URL to the region host, so ours goes after it.
    mail.client.setDefaultRequest('baseUrl', options.baseUrl ?? 'https://api.sendgrid.com/');
    mail.client.setDefaultRequest('timeout', options.timeoutMs ?? 10_000);
    mail.client.setDefaultRequest('httpAgent', agents.http);
    mail.client.setDefaultRequest('httpsAgent', agents.https);
    return mail;
  }

  const client = () => {
    if (options.client) return Promise.resolve(options.client);
    clientPromise ??= createClient();
    return clientPromise;
  };

  async function post(data: Record<string, unknown>, signal?: AbortSignal): Promise<string> {
    signal?.throwIfAborted();
    const mail = await client();
    try {
      const [response] = await abortable(mail.send(data), signal);
      const header = response.headers['x-message-id'];
      const id = Array.isArray(header) ? header[0] : header;
      if (typeof id !== 'string' || !id) {
        throw new EmailProviderError(name, 'provider', `HTTP ${response.statusCode} without an X-Message-Id`);
      }
      return id;
    } catch (error) {
      throw error instanceof EmailProviderError ? error : toSendgridError(error, name);
    }
  }

  return closeable<Omit<EmailProvider, keyof Closeable>>(
    {
      name,
      maxBulkSize: MAX_RECIPIENTS_PER_REQUEST,

      async send(message, opts) {
        const personalization: Record<string, unknown> = { to: message.to.map(toSg) };
        if (message.cc.length > 0) personalization.cc = message.cc.map(toSg);
        if (message.bcc.length > 0) personalization.bcc = message.bcc.map(toSg);
        if (message.template?.data) personalization.dynamicTemplateData = message.template.data;
        const id = await post(
          { ...baseData(message, sandbox), personalizations: [personalization] },
          opts?.signal,
        );
        return { id, status: 'queued' };
      },

      async sendBulk(batch, opts) {
        // Recipients are packed into requests of at most 1,000 addresses (one entry may hold several).
        const requests: number[][] = [];
        let current: number[] = [];
        let addresses = 0;
        batch.recipients.forEach((r, i) => {
          if (current.length > 0 && addresses + r.to.length > MAX_RECIPIENTS_PER_REQUEST) {
            requests.push(current);
            current = [];
            addresses = 0;
          }
          current.push(i);
          addresses += r.to.length;
        });
        if (current.length > 0) requests.push(current);

        const shared = baseData(batch, sandbox);
        const parts = [batch.subject, batch.text, batch.html];
        const substituted = !batch.template && parts.some((part) => part?.includes('{{'));
        const results: BulkItemResult[] = new Array(batch.recipients.length);
        for (const [n, indexes] of requests.entries()) {
          const personalizations = indexes.map((i, k) => {
            const r = batch.recipients[i] as (typeof batch.recipients)[number];
            const p: Record<string, unknown> = {
              to: r.to.map(toSg),
              customArgs: { [SENDGRID_BULK_INDEX_ARG]: String(k) },
            };
            if (batch.template) p.dynamicTemplateData = { ...batch.template.data, ...r.data };
            else if (substituted) {
              // Rendered by SendGrid from literal-string substitutions, exactly as renderPlaceholders does.
              const substitutions = placeholderSubstitutions(parts, r.data);
              if (Object.keys(substitutions).length > 0) p.substitutions = substitutions;
            }
            return p;
          });
          try {
            // @sendgrid/mail wraps substitution keys in `{{ }}` unless told otherwise; ours are written whole.
            const wrappers = substituted ? { substitutionWrappers: ['', ''] } : {};
            const id = await post({ ...shared, ...wrappers, personalizations }, opts?.signal);
            indexes.forEach((i, k) => {
              results[i] = { ok: true, id: `${id}:${k}`, status: 'queued' };
            });
          } catch (error) {
            // Nothing sent yet: let the service retry or fail over the whole batch.
            if (n === 0) throw error;
            for (const i of indexes) results[i] = { ok: false, error: error as Error };
          }
        }
        return results;
      },
    },
    async () => {
      agents?.http.destroy();
      agents?.https.destroy();
    },
  );
}
