import { OtpError, OtpErrorCode } from './errors.js';

/** Everything a channel needs to deliver one code. */
export interface OtpDelivery {
  /** The normalised destination: E.164 phone for `sms`, lower-cased address for `email`. */
  to: string;
  /** The code in clear: deliver it, never log it. */
  code: string;
  purpose: string;
  channel: 'sms' | 'email';
  challengeId: string;
  expiresAt: Date;
  /** Milliseconds the code stays valid. */
  ttlMs: number;
}

/** Delivers codes. `smsChannel` and `emailChannel` adapt any SMS or email sender to it. */
export interface OtpChannel {
  deliver(delivery: OtpDelivery): Promise<void>;
}

/** Anything that sends a text message: `@app/sms`'s provider or service fits. */
export interface OtpSmsSender {
  send(to: string, body: string, options?: object): Promise<unknown>;
}

/** The message shape an email sender takes: `@app/email`'s service fits. */
export interface OtpEmailMessage {
  to: string;
  from?: string;
  subject: string;
  text?: string;
  html?: string;
}

/** Anything that sends an email message. */
export interface OtpEmailSender {
  send(message: OtpEmailMessage): Promise<unknown>;
}

/** Options of {@link smsChannel}. */
export interface SmsChannelOptions {
  /**
   * Builds the message body.
   * @default `Your verification code is ${code}. It expires in ${minutes} minutes.` (plus the WebOTP line)
   */
  render?: (delivery: OtpDelivery) => string;
  /**
   * Appends the WebOTP / SMS Retriever line `@<domain> #<code>` so browsers can fill the code in.
   * @default undefined (no such line)
   */
  webOtpDomain?: string;
  /** Passed as the third argument of `sender.send` (e.g. `{ from }`). @default undefined */
  sendOptions?: object;
}

/** Options of {@link emailChannel}. */
export interface EmailChannelOptions {
  /** The subject line. @default 'Your verification code' */
  subject?: string;
  /** The sender address, when the email sender has no default. @default undefined */
  from?: string;
  /**
   * Builds the body (and optionally the subject).
   * @default a plain-text body with the code and its lifetime
   */
  render?: (delivery: OtpDelivery) => { subject?: string; text?: string; html?: string };
}

function minutes(delivery: OtpDelivery): string {
  const m = Math.max(1, Math.round(delivery.ttlMs / 60_000));
  return m === 1 ? '1 minute' : `${m} minutes`;
}

/**
 * Delivers codes by text message through any sender with `send(to, body, options?)`.
 *
 * @example
 * ```ts
 * const otp = createOtpService({
 *   store, secret,
 *   channels: { sms: smsChannel(smsService, { webOtpDomain: 'example.com' }) },
 * });
 * ```
 */
export function smsChannel(sender: OtpSmsSender, options: SmsChannelOptions = {}): OtpChannel {
  if (typeof sender?.send !== 'function')
    throw new OtpError(OtpErrorCode.INVALID_OPTIONS, 'smsChannel needs a sender with send()');
  const render =
    options.render ??
    ((d: OtpDelivery) => `Your verification code is ${d.code}. It expires in ${minutes(d)}.`);
  return {
    async deliver(delivery) {
      let body = render(delivery);
      if (options.webOtpDomain) body += `\n\n@${options.webOtpDomain} #${delivery.code}`;
      await sender.send(delivery.to, body, options.sendOptions);
    },
  };
}

/**
 * Delivers codes by email through any sender with `send({ to, from?, subject, text?, html? })`.
 *
 * @example
 * ```ts
 * const otp = createOtpService({
 *   store, secret,
 *   channels: { email: emailChannel(emailService, { from: 'no-reply@example.com' }) },
 * });
 * ```
 */
export function emailChannel(sender: OtpEmailSender, options: EmailChannelOptions = {}): OtpChannel {
  if (typeof sender?.send !== 'function')
    throw new OtpError(OtpErrorCode.INVALID_OPTIONS, 'emailChannel needs a sender with send()');
  return {
    async deliver(delivery) {
      const rendered = options.render?.(delivery) ?? {
        text: `Your verification code is ${delivery.code}.\n\nIt expires in ${minutes(delivery)}. If you did not ask for it, ignore this email.`,
      };
      const message: OtpEmailMessage = {
        to: delivery.to,
        subject: rendered.subject ?? options.subject ?? 'Your verification code',
      };
      if (options.from !== undefined) message.from = options.from;
      if (rendered.text !== undefined) message.text = rendered.text;
      if (rendered.html !== undefined) message.html = rendered.html;
      await sender.send(message);
    },
  };
}
