import type { FailureKind } from '@app/core';
import { type Closeable, closeable } from '@app/core';
import { classifyHttpStatus, isNetworkError, parseRetryAfter } from '@app/delivery';
import {
  type BulkEmailEntry,
  type Destination,
  type Message,
  SESv2Client,
  type SESv2ClientConfig,
  SendBulkEmailCommand,
  SendEmailCommand,
} from '@aws-sdk/client-sesv2';
import { EmailError, EmailErrorCode, EmailProviderError } from '../errors.js';
import type {
  EmailAddress,
  EmailAttachment,
  EmailProvider,
  NormalizedEmail,
  ProviderCallOptions,
} from '../types.js';
import { formatAddress } from '../validation.js';
import { checkOptions } from './check-options.js';
import { encodeHeaderText } from './mime.js';
import { isSesV1Client, type SesV1ClientLike, sesV1Provider } from './ses-v1.js';

/** The part of `SESv2Client` this provider uses. */
export interface SesClientLike {
  send(
    command: SendEmailCommand | SendBulkEmailCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<unknown>;
  destroy?(): void;
}

/** Options of {@link sesProvider}. */
export interface SesProviderOptions {
  /**
   * Your `SESv2Client`, or an `SESClient` from `@aws-sdk/client-ses` (API v1: messages go by SendRawEmail,
   * stored templates by SendTemplatedEmail/SendBulkTemplatedEmail). When given, `clientConfig`, `timeoutMs`
   * and `maxSockets` are not applied (set `maxAttempts: 1` on it: the service retries).
   * @default undefined (a `SESv2Client` is created from `clientConfig`)
   */
  client?: SesClientLike | SesV1ClientLike;
  /** Config for the client this provider creates (`region`, `credentials`, `endpoint`...). @default {} (the SDK's defaults) */
  clientConfig?: SESv2ClientConfig;
  /** The SES configuration set whose event destination (SNS) feeds the webhook. @default undefined */
  configurationSetName?: string;
  /** Per-request timeout, in ms; a timeout is a transient failure. @default 10000 */
  timeoutMs?: number;
  /** Most sockets open to SES at once (for the client created here). @default 50 */
  maxSockets?: number;
  /** The provider name in results and config. @default 'ses' */
  name?: string;
}

/** SES SendBulkEmail takes at most 50 destinations per call. */
const MAX_BULK = 50;

// Error names that mean "this account cannot send now": fail over rather than retry or give up.
const PROVIDER_LEVEL = new Set([
  'AccountSendingPausedException', // SES API v1
  'ConfigurationSetSendingPausedException', // SES API v1
  'AccountSuspendedException',
  'SendingPausedException',
  'MailFromDomainNotVerifiedException',
  'NotFoundException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'AccessDeniedException',
  'ExpiredTokenException',
  'CredentialsProviderError',
]);
const TRANSIENT = new Set([
  'Throttling', // SES API v1's code for "maximum sending rate exceeded"
  'TooManyRequestsException',
  'LimitExceededException',
  'ThrottlingException',
  'TimeoutError',
]);

/**
 * Maps an AWS SDK v3 SES error to an {@link EmailProviderError}: throttling and 5xx transient (with the
 * Retry-After wait), account/credential problems provider-level, `MessageRejected`/`BadRequest` permanent.
 *
 * @example
 * ```ts
 * try { await client.send(cmd); } catch (err) { throw toSesError(err); }
 * ```
 */
export function toSesError(error: unknown, provider = 'ses'): EmailProviderError {
  const e = error as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    $response?: { headers?: Record<string, string> };
    $retryable?: unknown;
  };
  const status = e?.$metadata?.httpStatusCode;
  let kind: FailureKind;
  if (e?.name && TRANSIENT.has(e.name)) kind = 'transient';
  else if (e?.name && PROVIDER_LEVEL.has(e.name)) kind = 'provider';
  else if (typeof status === 'number') kind = classifyHttpStatus(status);
  else if (isNetworkError(error) || e?.$retryable) kind = 'transient';
  else kind = 'provider';
  const headers = e?.$response?.headers ?? {};
  return new EmailProviderError(provider, kind, `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`, {
    cause: error,
    ...(status === undefined ? {} : { statusCode: status }),
    retryAfterMs: parseRetryAfter(headers['retry-after']),
  });
}

/** Checks what config can get wrong in `clientConfig`; the SDK checks the rest when it is used. */
function checkClientConfig(config: SESv2ClientConfig | undefined): void {
  if (config === undefined) return;
  const c = config as Record<string, unknown>;
  const issues: string[] = [];
  if (
    c.region !== undefined &&
    (typeof c.region !== 'string' || c.region === '') &&
    typeof c.region !== 'function'
  ) {
    issues.push("'clientConfig.region' must be a region name such as 'eu-west-1'");
  }
  if (c.endpoint !== undefined && typeof c.endpoint === 'string' && !URL.canParse(c.endpoint)) {
    issues.push("'clientConfig.endpoint' must be an absolute URL");
  }
  const creds = c.credentials as Record<string, unknown> | undefined;
  if (creds !== undefined && typeof creds !== 'function') {
    const ok =
      typeof creds === 'object' &&
      creds !== null &&
      typeof creds.accessKeyId === 'string' &&
      creds.accessKeyId !== '' &&
      typeof creds.secretAccessKey === 'string' &&
      creds.secretAccessKey !== '';
    if (!ok) {
      issues.push("'clientConfig.credentials' needs a non-empty accessKeyId and secretAccessKey");
    }
  }
  if (issues.length > 0) {
    throw new EmailError(EmailErrorCode.INVALID_OPTIONS, `[ses] ${issues.join('; ')}`, { issues });
  }
}

function attachments(list: EmailAttachment[]) {
  return list.map((a) => ({
    FileName: a.filename,
    RawContent: typeof a.content === 'string' ? Buffer.from(a.content) : a.content,
    ContentType: a.contentType ?? 'application/octet-stream',
    ContentDisposition: a.disposition === 'inline' ? ('INLINE' as const) : ('ATTACHMENT' as const),
    ...(a.contentId ? { ContentId: a.contentId } : {}),
  }));
}

/**
 * An address as SES takes it: 7-bit ASCII only, so a display name with other characters is sent as RFC 2047
 * encoded-words (each at most 75 characters, never splitting a character); SES refuses or garbles it otherwise.
 *
 * @example
 * ```ts
 * sesAddress({ email: 'zoe@example.com', name: 'Zoë' }); // '=?UTF-8?B?Wm/Dqw==?= <zoe@example.com>'
 * ```
 */
export function sesAddress(address: EmailAddress): string {
  const name = address.name;
  if (!name || /^[\x20-\x7e]*$/.test(name)) return formatAddress(address);
  return `${encodeHeaderText(name, ' ')} <${address.email}>`;
}

function headers(h: Record<string, string>) {
  return Object.entries(h).map(([Name, Value]) => ({ Name, Value }));
}

function tags(t: Record<string, string>) {
  return Object.entries(t).map(([Name, Value]) => ({ Name, Value }));
}

/**
 * An email provider on `@aws-sdk/client-sesv2` (SDK v3). Bulk sends use SendBulkEmail, 50 destinations
 * per call: with the message's template, or with its subject/text/html as inline template content (so
 * `{{name}}` placeholders are filled from each recipient's `data`).
 *
 * @example
 * ```ts
 * import { sesProvider } from '@app/email/ses';
 * const ses = sesProvider({ clientConfig: { region: 'eu-west-1' }, configurationSetName: 'events' });
 * ```
 */
export function sesProvider(options: SesProviderOptions = {}): EmailProvider {
  // Options may come from config (`providerFactories`): check them before anything is created.
  checkOptions('ses', options, {
    client: 'object',
    clientConfig: 'object',
    configurationSetName: 'string',
    timeoutMs: 'positive',
    maxSockets: 'count',
    name: 'string',
  });
  checkClientConfig(options.clientConfig);
  // An application's SES API v1 client (`SESClient`): raw MIME sends, no second SDK needed.
  if (isSesV1Client(options.client)) return sesV1Provider(options.client, options);
  const name = options.name ?? 'ses';
  const owned = !options.client;
  const client: SesClientLike =
    options.client ??
    new SESv2Client({
      maxAttempts: 1, // the email service retries, with failover
      ...options.clientConfig,
      requestHandler: {
        requestTimeout: options.timeoutMs ?? 10_000,
        throwOnRequestTimeout: true,
        connectionTimeout: options.timeoutMs ?? 10_000,
        httpAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 50 },
        httpsAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 50 },
      },
    });

  async function call<T>(
    command: SendEmailCommand | SendBulkEmailCommand,
    opts?: ProviderCallOptions,
  ): Promise<T> {
    try {
      return (await client.send(command, opts?.signal ? { abortSignal: opts.signal } : undefined)) as T;
    } catch (error) {
      throw toSesError(error, name);
    }
  }

  const common = (m: Omit<NormalizedEmail, 'to' | 'cc' | 'bcc'>) => ({
    FromEmailAddress: sesAddress(m.from),
    ...(m.replyTo.length > 0 ? { ReplyToAddresses: m.replyTo.map(sesAddress) } : {}),
    ...(Object.keys(m.tags).length > 0 ? { EmailTags: tags(m.tags) } : {}),
    ...(options.configurationSetName ? { ConfigurationSetName: options.configurationSetName } : {}),
  });

  return closeable<Omit<EmailProvider, keyof Closeable>>(
    {
      name,
      maxBulkSize: MAX_BULK,

      async send(message, opts) {
        const destination: Destination = { ToAddresses: message.to.map(sesAddress) };
        if (message.cc.length > 0) destination.CcAddresses = message.cc.map(sesAddress);
        if (message.bcc.length > 0) destination.BccAddresses = message.bcc.map(sesAddress);
        const extras = {
          ...(Object.keys(message.headers).length > 0 ? { Headers: headers(message.headers) } : {}),
          ...(message.attachments.length > 0 ? { Attachments: attachments(message.attachments) } : {}),
        };
        let content: NonNullable<ConstructorParameters<typeof SendEmailCommand>[0]['Content']>;
        if (message.template) {
          content = {
            Template: {
              TemplateName: message.template.id,
              TemplateData: JSON.stringify(message.template.data ?? {}),
              ...extras,
            },
          };
        } else {
          const simple: Message = {
            Subject: { Data: message.subject ?? '', Charset: 'UTF-8' },
            Body: {},
            ...extras,
          };
          if (message.text) simple.Body = { ...simple.Body, Text: { Data: message.text, Charset: 'UTF-8' } };
          if (message.html) simple.Body = { ...simple.Body, Html: { Data: message.html, Charset: 'UTF-8' } };
          content = { Simple: simple };
        }
        const out = await call<{ MessageId?: string }>(
          new SendEmailCommand({ ...common(message), Destination: destination, Content: content }),
          opts,
        );
        if (!out.MessageId)
          throw new EmailProviderError(name, 'provider', 'SendEmail answered without a MessageId');
        return { id: out.MessageId, status: 'sent' };
      },

      async sendBulk(batch, opts) {
        const template = batch.template
          ? { TemplateName: batch.template.id }
          : {
              TemplateContent: {
                Subject: batch.subject ?? '',
                ...(batch.text ? { Text: batch.text } : {}),
                ...(batch.html ? { Html: batch.html } : {}),
              },
            };
        const entries: BulkEmailEntry[] = batch.recipients.map((r) => ({
          Destination: { ToAddresses: r.to.map(sesAddress) },
          ...(r.data
            ? {
                ReplacementEmailContent: {
                  ReplacementTemplate: { ReplacementTemplateData: JSON.stringify(r.data) },
                },
              }
            : {}),
        }));
        const out = await call<{
          BulkEmailEntryResults?: Array<{ Status?: string; MessageId?: string; Error?: string }>;
        }>(
          new SendBulkEmailCommand({
            ...common(batch),
            DefaultContent: {
              Template: {
                ...template,
                TemplateData: JSON.stringify(batch.template?.data ?? {}),
                ...(Object.keys(batch.headers).length > 0 ? { Headers: headers(batch.headers) } : {}),
                ...(batch.attachments.length > 0 ? { Attachments: attachments(batch.attachments) } : {}),
              },
            },
            BulkEmailEntries: entries,
          }),
          opts,
        );
        const results = out.BulkEmailEntryResults ?? [];
        return batch.recipients.map((_, i) => {
          const r = results[i];
          if (r?.Status === 'SUCCESS' && r.MessageId) return { ok: true, id: r.MessageId, status: 'sent' };
          const kind: FailureKind =
            r?.Status === 'TRANSIENT_FAILURE' || r?.Status === 'ACCOUNT_THROTTLED'
              ? 'transient'
              : 'permanent';
          return {
            ok: false,
            error: new EmailProviderError(
              name,
              kind,
              `${r?.Status ?? 'NO_RESULT'}: ${r?.Error ?? 'no result for this entry'}`,
            ),
          };
        });
      },
    },
    async () => {
      if (owned) client.destroy?.();
    },
  );
}
