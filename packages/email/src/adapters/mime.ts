import { randomBytes } from 'node:crypto';
import type { EmailAttachment, NormalizedEmail } from '../types.js';
import { formatAddress } from '../validation.js';

/**
 * A MIME message (RFC 5322 + 2045-2049) from a validated email, for APIs that take raw mail (SES v1's
 * SendRawEmail). 7-bit clean: every body part is base64, every non-ASCII header an RFC 2047 encoded-word,
 * every non-ASCII file name RFC 2231. Bcc never appears in the headers.
 */
export function buildMimeMessage(message: NormalizedEmail, formatAddressFor = formatAddress): Buffer {
  const lines: string[] = [];
  const header = (name: string, value: string) => lines.push(`${name}: ${value}`);
  header('From', formatAddressFor(message.from));
  if (message.to.length > 0) header('To', message.to.map(formatAddressFor).join(', '));
  if (message.cc.length > 0) header('Cc', message.cc.map(formatAddressFor).join(', '));
  if (message.replyTo.length > 0) header('Reply-To', message.replyTo.map(formatAddressFor).join(', '));
  header('Subject', encodeHeaderText(message.subject ?? ''));
  header('MIME-Version', '1.0');
  for (const [name, value] of Object.entries(message.headers)) header(name, encodeHeaderText(value));
  const body = bodyPart(message);
  return Buffer.from(`${lines.join('\r\n')}\r\n${body}`, 'utf8');
}

/**
 * A header value as 7-bit text: as is when printable ASCII, else RFC 2047 encoded-words of at most 75
 * characters (45 bytes of UTF-8 each, never splitting a character), joined by `separator` (a folded line in
 * a raw header; a space where an API takes the value unfolded).
 */
export function encodeHeaderText(value: string, separator = '\r\n '): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  const words: string[] = [];
  let chunk = '';
  for (const char of value) {
    if (chunk !== '' && Buffer.byteLength(chunk + char) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk !== '') words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(separator);
}

const boundary = () => `=_app_${randomBytes(12).toString('hex')}`;

function base64Lines(content: string | Uint8Array): string {
  const b64 = Buffer.from(content).toString('base64');
  return b64.replace(/.{1,76}/g, '$&\r\n');
}

/** One part: its headers, a blank line, its base64 body. */
function leaf(contentType: string, content: string | Uint8Array, extra: string[] = []): string {
  return [
    `Content-Type: ${contentType}`,
    'Content-Transfer-Encoding: base64',
    ...extra,
    '',
    base64Lines(content),
  ].join('\r\n');
}

function multipart(subtype: string, parts: string[]): string {
  const b = boundary();
  return [
    `Content-Type: multipart/${subtype}; boundary="${b}"`,
    '',
    ...parts.map((p) => `--${b}\r\n${p}`),
    `--${b}--`,
    '',
  ].join('\r\n');
}

function fileNameParams(filename: string): string {
  if (/^[\x20-\x7e]*$/.test(filename)) return `filename="${filename.replace(/["\\]/g, '\\$&')}"`;
  return `filename*=UTF-8''${encodeURIComponent(filename)}`;
}

function attachmentPart(a: EmailAttachment): string {
  const disposition = a.disposition === 'inline' ? 'inline' : 'attachment';
  const extra = [`Content-Disposition: ${disposition}; ${fileNameParams(a.filename)}`];
  if (a.contentId) extra.push(`Content-ID: <${a.contentId}>`);
  return leaf(a.contentType ?? 'application/octet-stream', a.content, extra);
}

function bodyPart(message: NormalizedEmail): string {
  const text = message.text ? leaf('text/plain; charset=UTF-8', message.text) : undefined;
  const html = message.html ? leaf('text/html; charset=UTF-8', message.html) : undefined;
  let content =
    text && html
      ? multipart('alternative', [text, html])
      : (html ?? text ?? leaf('text/plain; charset=UTF-8', ''));
  const inline = message.attachments.filter((a) => a.disposition === 'inline');
  const attached = message.attachments.filter((a) => a.disposition !== 'inline');
  if (inline.length > 0) content = multipart('related', [content, ...inline.map(attachmentPart)]);
  if (attached.length > 0) content = multipart('mixed', [content, ...attached.map(attachmentPart)]);
  return content;
}
