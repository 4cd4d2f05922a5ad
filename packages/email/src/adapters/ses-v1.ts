import { type Closeable, closeable, mapLimit } from '@app/core';
import { EmailProviderError } from '../errors.js';
import { renderContent } from '../placeholders.js';
import type { BulkItemResult, EmailProvider, NormalizedEmail, ProviderCallOptions } from '../types.js';
import { buildMimeMessage } from './mime.js';
import { type SesProviderOptions, sesAddress, toSesError } from './ses.js';

/** The part of `@aws-sdk/client-ses`' `SESClient` (SES API v1) this provider uses. */
export interface SesV1ClientLike {
  /** `client.config.serviceId` is `'SES'` for the v1 client (`'SESv2'` for v2): how the two are told apart. */
  config: { serviceId?: string };
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy?(): void;
}

/** True for an SES API v1 client (`SESClient` from `@aws-sdk/client-ses`). */
export function isSesV1Client(client: unknown): client is SesV1ClientLike {
  return (client as { config?: { serviceId?: unknown } } | null)?.config?.serviceId === 'SES';
}

/** SendBulkTemplatedEmail takes at most 50 destinations per call. */
const MAX_BULK = 50;
/** Raw sends in flight at once when a bulk message without a stored template goes out recipient by recipient. */
const RAW_BULK_CONCURRENCY = 8;

type V1Module = typeof import('@aws-sdk/client-ses');

/**
 * The SES provider on an application's existing `SESClient` (API v1): single messages by SendRawEmail (a
 * MIME message built here, so attachments, inline images, headers and Bcc all work), stored templates by
 * SendTemplatedEmail and SendBulkTemplatedEmail. `sesProvider({ client })` picks it for a v1 client.
 */
export function sesV1Provider(client: SesV1ClientLike, options: SesProviderOptions): EmailProvider {
  const name = options.name ?? 'ses';
  let sdk: Promise<V1Module> | undefined;
  const commands = () => {
    sdk ??= import('@aws-sdk/client-ses');
    return sdk;
  };
  async function call<T>(make: (m: V1Module) => unknown, opts?: ProviderCallOptions): Promise<T> {
    opts?.signal?.throwIfAborted();
    const command = make(await commands());
    try {
      return (await client.send(command, opts?.signal ? { abortSignal: opts.signal } : undefined)) as T;
    } catch (error) {
      throw toSesError(error, name);
    }
  }
  const common = (m: Pick<NormalizedEmail, 'tags'>) => ({
    ...(Object.keys(m.tags).length > 0
      ? { Tags: Object.entries(m.tags).map(([Name, Value]) => ({ Name, Value })) }
      : {}),
    ...(options.configurationSetName ? { ConfigurationSetName: options.configurationSetName } : {}),
  });
  /** One SendRawEmail / SendTemplatedEmail call: the `MessageId` it answers is the message's id. */
  async function sendOne(
    operation: 'SendRawEmail' | 'SendTemplatedEmail',
    make: (m: V1Module) => unknown,
    opts?: ProviderCallOptions,
  ): ReturnType<EmailProvider['send']> {
    const out = await call<{ MessageId?: string }>(make, opts);
    if (!out.MessageId)
      throw new EmailProviderError(name, 'provider', `${operation} answered without a MessageId`);
    return { id: out.MessageId, status: 'sent' };
  }

  const sendRaw = (message: NormalizedEmail, opts?: ProviderCallOptions) => {
    const destinations = [...message.to, ...message.cc, ...message.bcc].map((a) => a.email);
    return sendOne(
      'SendRawEmail',
      (m) =>
        new m.SendRawEmailCommand({
          RawMessage: { Data: buildMimeMessage(message, sesAddress) },
          Destinations: destinations,
          ...common(message),
        }),
      opts,
    );
  };

  const sendTemplated = (message: NormalizedEmail, opts?: ProviderCallOptions) =>
    sendOne(
      'SendTemplatedEmail',
      (m) =>
        new m.SendTemplatedEmailCommand({
          Source: sesAddress(message.from),
          Destination: {
            ToAddresses: message.to.map(sesAddress),
            ...(message.cc.length > 0 ? { CcAddresses: message.cc.map(sesAddress) } : {}),
            ...(message.bcc.length > 0 ? { BccAddresses: message.bcc.map(sesAddress) } : {}),
          },
          ...(message.replyTo.length > 0 ? { ReplyToAddresses: message.replyTo.map(sesAddress) } : {}),
          Template: message.template?.id,
          TemplateData: JSON.stringify(message.template?.data ?? {}),
          ...common(message),
        }),
      opts,
    );

  const sendBulkTemplated: NonNullable<EmailProvider['sendBulk']> = async (batch, opts) => {
    const out = await call<{ Status?: Array<{ Status?: string; MessageId?: string; Error?: string }> }>(
      (m) =>
        new m.SendBulkTemplatedEmailCommand({
          Source: sesAddress(batch.from),
          ...(batch.replyTo.length > 0 ? { ReplyToAddresses: batch.replyTo.map(sesAddress) } : {}),
          Template: batch.template?.id,
          DefaultTemplateData: JSON.stringify(batch.template?.data ?? {}),
          Destinations: batch.recipients.map((r) => ({
            Destination: { ToAddresses: r.to.map(sesAddress) },
            ...(r.data ? { ReplacementTemplateData: JSON.stringify(r.data) } : {}),
          })),
          ...common(batch),
        }),
      opts,
    );
    const results = out.Status ?? [];
    return batch.recipients.map((_, i) => {
      const r = results[i];
      if (r?.Status === 'Success' && r.MessageId) return { ok: true, id: r.MessageId, status: 'sent' };
      const transient = r?.Status === 'TransientFailure' || r?.Status === 'AccountThrottled';
      return {
        ok: false,
        error: new EmailProviderError(
          name,
          transient ? 'transient' : 'permanent',
          `${r?.Status ?? 'NO_RESULT'}: ${r?.Error ?? 'no result for this entry'}`,
        ),
      };
    });
  };

  return closeable<Omit<EmailProvider, keyof Closeable>>(
    {
      name,
      maxBulkSize: MAX_BULK,
      send: (message, opts) => (message.template ? sendTemplated(message, opts) : sendRaw(message, opts)),
      async sendBulk(batch, opts) {
        if (batch.template) return sendBulkTemplated(batch, opts);
        // SES v1 has no inline-template bulk: each recipient gets its own raw message, rendered as everywhere.
        const { recipients, ...shared } = batch;
        return mapLimit(recipients, RAW_BULK_CONCURRENCY, async (r): Promise<BulkItemResult> => {
          const message: NormalizedEmail = {
            ...shared,
            ...renderContent(shared, r.data),
            to: r.to,
            cc: [],
            bcc: [],
          };
          try {
            return { ok: true, ...(await sendRaw(message, opts)) };
          } catch (error) {
            if (opts?.signal?.aborted) throw error;
            return { ok: false, error: error as Error };
          }
        });
      },
    },
    async () => {
      // The application's client: it closes it.
    },
  );
}
