import { isEmailAddress } from '@app/core';
import { attachmentHeaderIssues } from './attachments.js';
import { EmailError, EmailErrorCode } from './errors.js';
import type {
  BulkEmail,
  EmailAddress,
  EmailAddressInput,
  EmailMessage,
  NormalizedBulk,
  NormalizedEmail,
} from './types.js';

/** Limits applied by {@link validateMessage}. */
export interface ValidationLimits {
  /** Most addresses in to + cc + bcc of one message (SES allows 50). @default 50 */
  maxRecipients?: number;
  /** Largest subject + text + html + attachments, in bytes. @default 10485760 (10 MiB) */
  maxMessageBytes?: number;
}

const DEFAULT_MAX_RECIPIENTS = 50;
const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TAG = /^[A-Za-z0-9_-]{1,256}$/;
const CRLF = /[\r\n]/;
// Headers the providers set themselves from the message fields.
const RESERVED_HEADERS = new Set(['from', 'to', 'cc', 'bcc', 'subject', 'reply-to', 'content-type']);

/**
 * Tells whether `email` is an address the providers accept (`local@domain.tld`, at most 254 characters, no
 * control or bidirectional characters): `@app/core`'s `isEmailAddress`, the one rule `@app/otp` applies too.
 *
 * @example
 * ```ts
 * isValidEmail('ada@example.com'); // true
 * isValidEmail('ada@localhost');   // false
 * ```
 */
export function isValidEmail(email: string): boolean {
  return isEmailAddress(email);
}

/**
 * Parses `'ada@example.com'`, `'Ada Lovelace <ada@example.com>'` or `{ email, name }`. Throws
 * `INVALID_MESSAGE` when the address is not valid.
 *
 * @example
 * ```ts
 * parseAddress('Ada <ada@example.com>'); // { email: 'ada@example.com', name: 'Ada' }
 * ```
 */
export function parseAddress(input: EmailAddressInput, field = 'address'): EmailAddress {
  const issues: string[] = [];
  const parsed = tryParseAddress(input, field, issues);
  if (!parsed) throw new EmailError(EmailErrorCode.INVALID_MESSAGE, issues.join('; '), { issues });
  return parsed;
}

/**
 * Formats an address for a header: `"Ada Lovelace" <ada@example.com>`, or the bare address.
 *
 * @example
 * ```ts
 * formatAddress({ email: 'ada@example.com', name: 'Ada' }); // '"Ada" <ada@example.com>'
 * ```
 */
export function formatAddress(address: EmailAddress): string {
  if (!address.name) return address.email;
  return `"${address.name.replace(/["\\]/g, '\\$&')}" <${address.email}>`;
}

function tryParseAddress(input: unknown, field: string, issues: string[]): EmailAddress | undefined {
  let email: string;
  let name: string | undefined;
  if (typeof input === 'string') {
    const m = /^\s*(?:"?([^"<]*?)"?\s*)<([^<>]+)>\s*$/.exec(input);
    if (m) {
      name = m[1]?.trim() || undefined;
      email = (m[2] ?? '').trim();
    } else {
      email = input.trim();
    }
  } else if (
    typeof input === 'object' &&
    input !== null &&
    typeof (input as EmailAddress).email === 'string'
  ) {
    email = (input as EmailAddress).email.trim();
    const n = (input as EmailAddress).name;
    if (n !== undefined && typeof n !== 'string') {
      issues.push(`${field}: name must be a string`);
      return undefined;
    }
    name = n?.trim() || undefined;
  } else {
    issues.push(`${field}: expected an address string or { email, name }`);
    return undefined;
  }
  if (!isValidEmail(email)) {
    issues.push(`${field}: '${email.slice(0, 80)}' is not a valid email address`);
    return undefined;
  }
  if (name !== undefined && (CRLF.test(name) || name.length > 256)) {
    issues.push(`${field}: display name must be one line of at most 256 characters`);
    return undefined;
  }
  return name === undefined ? { email } : { email, name };
}

function parseList(input: unknown, field: string, issues: string[]): EmailAddress[] {
  if (input === undefined) return [];
  const list = Array.isArray(input) ? input : [input];
  const out: EmailAddress[] = [];
  list.forEach((item, i) => {
    const a = tryParseAddress(item, Array.isArray(input) ? `${field}[${i}]` : field, issues);
    if (a) out.push(a);
  });
  return out;
}

function byteLength(value: string | Uint8Array | undefined): number {
  if (value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength;
}

type Shared = Omit<NormalizedEmail, 'to' | 'cc' | 'bcc'>;

function validateShared(
  message: Omit<EmailMessage, 'to' | 'cc' | 'bcc'>,
  defaultFrom: EmailAddressInput | undefined,
  limits: ValidationLimits,
  issues: string[],
): Shared {
  const fromInput = message.from ?? defaultFrom;
  let from: EmailAddress | undefined;
  if (fromInput === undefined) issues.push('from: required (or set the service option defaultFrom)');
  else from = tryParseAddress(fromInput, 'from', issues);
  const replyTo = parseList(message.replyTo, 'replyTo', issues);

  const template = message.template;
  if (template !== undefined) {
    if (
      typeof template !== 'object' ||
      template === null ||
      typeof template.id !== 'string' ||
      !template.id
    ) {
      issues.push('template.id: required non-empty string');
    } else if (template.data !== undefined && (typeof template.data !== 'object' || template.data === null)) {
      issues.push('template.data: must be an object');
    }
  }
  if (message.subject !== undefined && typeof message.subject !== 'string') {
    issues.push('subject: must be a string');
  } else if (message.subject !== undefined && (CRLF.test(message.subject) || message.subject.length > 998)) {
    issues.push('subject: must be one line of at most 998 characters');
  } else if (!template && !message.subject?.trim()) {
    issues.push('subject: required unless a template is given');
  }
  for (const key of ['text', 'html'] as const) {
    if (message[key] !== undefined && typeof message[key] !== 'string')
      issues.push(`${key}: must be a string`);
  }
  if (!template && !message.text && !message.html) issues.push('text or html: one is required');

  const attachments = [...(message.attachments ?? [])];
  let bytes = byteLength(message.subject) + byteLength(message.text) + byteLength(message.html);
  attachments.forEach((a, i) => {
    if (typeof a?.filename !== 'string' || !a.filename || /[\\/\r\n]/.test(a.filename)) {
      issues.push(`attachments[${i}].filename: required, without path separators or line breaks`);
    }
    if (typeof a?.content !== 'string' && !(a?.content instanceof Uint8Array)) {
      issues.push(`attachments[${i}].content: must be a string or Uint8Array`);
    } else {
      bytes += byteLength(a.content);
    }
    if (a?.contentType !== undefined && !/^[\w.+-]+\/[\w.+-]+$/.test(a.contentType)) {
      issues.push(`attachments[${i}].contentType: '${a.contentType}' is not a MIME type`);
    }
    issues.push(...attachmentHeaderIssues(a, i));
  });
  const maxBytes = limits.maxMessageBytes ?? DEFAULT_MAX_BYTES;
  if (bytes > maxBytes) issues.push(`size: ${bytes} bytes exceeds the limit of ${maxBytes}`);

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (!HEADER_NAME.test(name) || RESERVED_HEADERS.has(name.toLowerCase())) {
      issues.push(`headers.${name}: not an allowed header name`);
    } else if (typeof value !== 'string' || CRLF.test(value)) {
      issues.push(`headers.${name}: value must be a string without line breaks`);
    } else {
      headers[name] = value;
    }
  }
  const tags: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.tags ?? {})) {
    if (!TAG.test(name) || typeof value !== 'string' || !TAG.test(value)) {
      issues.push(`tags.${name}: names and values use letters, digits, '_' and '-' (1-256 characters)`);
    } else {
      tags[name] = value;
    }
  }
  const shared: Shared = {
    from: from ?? { email: '' },
    replyTo,
    attachments,
    headers,
    tags,
  };
  if (message.subject !== undefined) shared.subject = message.subject;
  if (message.text !== undefined) shared.text = message.text;
  if (message.html !== undefined) shared.html = message.html;
  if (template)
    shared.template = template.data ? { id: template.id, data: { ...template.data } } : { id: template.id };
  return shared;
}

function fail(issues: string[]): never {
  throw new EmailError(
    EmailErrorCode.INVALID_MESSAGE,
    `invalid message: ${issues.slice(0, 5).join('; ')}${issues.length > 5 ? ` (+${issues.length - 5} more)` : ''}`,
    { issues },
  );
}

/**
 * Validates a message and returns its normalised form, or throws `INVALID_MESSAGE` listing every
 * problem. The service calls it before any network call; providers receive only normalised messages.
 *
 * @example
 * ```ts
 * const m = validateMessage({ to: 'ada@example.com', subject: 'Hi', text: 'Hello' }, { defaultFrom: 'app@example.com' });
 * ```
 */
export function validateMessage(
  message: EmailMessage,
  options: ValidationLimits & { defaultFrom?: EmailAddressInput } = {},
): NormalizedEmail {
  if (typeof message !== 'object' || message === null) fail(['message: must be an object']);
  const issues: string[] = [];
  const to = parseList(message.to, 'to', issues);
  const cc = parseList(message.cc, 'cc', issues);
  const bcc = parseList(message.bcc, 'bcc', issues);
  if (message.to === undefined || (Array.isArray(message.to) && message.to.length === 0)) {
    issues.push('to: at least one recipient is required');
  }
  const max = options.maxRecipients ?? DEFAULT_MAX_RECIPIENTS;
  if (to.length + cc.length + bcc.length > max) {
    issues.push(`to/cc/bcc: ${to.length + cc.length + bcc.length} recipients exceed the limit of ${max}`);
  }
  const shared = validateShared(message, options.defaultFrom, options, issues);
  if (issues.length > 0) fail(issues);
  return { ...shared, to, cc, bcc };
}

/**
 * Validates a bulk send (shared content, many recipients) and returns its normalised form, or throws
 * `INVALID_MESSAGE` listing every problem (recipient problems name their index).
 *
 * @example
 * ```ts
 * validateBulk({ from: 'app@example.com', subject: 'News', html: '<p>Hi</p>', recipients: [{ to: 'a@example.com' }] });
 * ```
 */
export function validateBulk(
  bulk: BulkEmail,
  options: ValidationLimits & { defaultFrom?: EmailAddressInput } = {},
): NormalizedBulk {
  if (typeof bulk !== 'object' || bulk === null || !Array.isArray(bulk.recipients)) {
    fail(['recipients: must be an array']);
  }
  const issues: string[] = [];
  if (bulk.recipients.length === 0) issues.push('recipients: at least one is required');
  const max = options.maxRecipients ?? DEFAULT_MAX_RECIPIENTS;
  const recipients = bulk.recipients.map((r, i) => {
    const to = parseList(r?.to, `recipients[${i}].to`, issues);
    if (r?.to === undefined || (Array.isArray(r.to) && r.to.length === 0)) {
      issues.push(`recipients[${i}].to: at least one address is required`);
    }
    if (to.length > max)
      issues.push(`recipients[${i}].to: ${to.length} addresses exceed the limit of ${max}`);
    if (r?.data !== undefined && (typeof r.data !== 'object' || r.data === null)) {
      issues.push(`recipients[${i}].data: must be an object`);
    }
    return r?.data ? { to, data: { ...r.data } } : { to };
  });
  const shared = validateShared(bulk, options.defaultFrom, options, issues);
  if (issues.length > 0) fail(issues);
  return { ...shared, recipients };
}
