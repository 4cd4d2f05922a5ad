import type { EmailAttachment } from './types.js';

/** The dispositions an attachment may have; anything else is refused, never turned into an attachment. */
export const ATTACHMENT_DISPOSITIONS: readonly NonNullable<EmailAttachment['disposition']>[] = [
  'attachment',
  'inline',
];

/**
 * A Content-ID as RFC 2392 allows it in a `cid:` URL, without the angle brackets: the atext characters of
 * an addr-spec, dots and one optional `@`. No spaces, no line breaks, no `<` or `>`: a value such as
 * `img1>\r\nBcc: victim@example.com` would otherwise reach a provider's MIME headers.
 */
const CONTENT_ID = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+(@[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+)?$/;

/**
 * The problems of an attachment's `disposition` and `contentId`, as `attachments[i].field: reason` lines
 * (empty when there are none). Checked before any provider is called.
 *
 * @example
 * ```ts
 * attachmentHeaderIssues({ filename: 'a.png', content: '', contentId: 'x>\r\nBcc: y' }, 0);
 * // ['attachments[0].contentId: ...']
 * ```
 */
export function attachmentHeaderIssues(attachment: EmailAttachment, index: number): string[] {
  const issues: string[] = [];
  const { disposition, contentId } = attachment ?? {};
  if (disposition !== undefined && !ATTACHMENT_DISPOSITIONS.includes(disposition)) {
    issues.push(`attachments[${index}].disposition: must be 'attachment' or 'inline'`);
  }
  if (
    contentId !== undefined &&
    (typeof contentId !== 'string' || contentId.length > 250 || !CONTENT_ID.test(contentId))
  ) {
    issues.push(
      `attachments[${index}].contentId: 1-250 characters of an RFC 2392 content-id, without '<', '>', spaces or line breaks`,
    );
  }
  if (disposition === 'inline' && contentId === undefined) {
    issues.push(
      `attachments[${index}].contentId: required for an inline attachment (the HTML refers to it as cid:)`,
    );
  }
  return issues;
}
