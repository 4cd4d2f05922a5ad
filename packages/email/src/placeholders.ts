/**
 * Bulk placeholders: `{{name}}` (or `{{ user.name }}`) in a bulk message's subject, text and html, filled
 * from each recipient's `data`. One rule for every provider, so a failover in the middle of a bulk send
 * never changes what people receive: the value's text replaces the placeholder as is (SES's inline-template
 * "simple substitution"), a missing or non-scalar value becomes the empty string.
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\s*\}\}/g;

function lookup(data: Readonly<Record<string, unknown>> | undefined, path: string): string {
  let value: unknown = data;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return '';
    value = (value as Record<string, unknown>)[part];
  }
  return typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    typeof value === 'bigint'
    ? String(value)
    : '';
}

/**
 * Fills the placeholders of `content` from `data`.
 *
 * @example
 * ```ts
 * renderPlaceholders('Hi {{name}}', { name: 'Ada' }); // 'Hi Ada'
 * ```
 */
export function renderPlaceholders(
  content: string,
  data: Readonly<Record<string, unknown>> | undefined,
): string {
  return content.replace(PLACEHOLDER, (_, path: string) => lookup(data, path));
}

/**
 * Every placeholder written in `parts` (as written, spaces included) mapped to its value from `data`: the
 * substitutions a provider that replaces literal strings (SendGrid's `personalizations[].substitutions`)
 * needs to render exactly as {@link renderPlaceholders} does.
 *
 * @example
 * ```ts
 * placeholderSubstitutions(['Hi {{name}}', '<p>{{ name }}</p>'], { name: 'Ada' });
 * // { '{{name}}': 'Ada', '{{ name }}': 'Ada' }
 * ```
 */
export function placeholderSubstitutions(
  parts: readonly (string | undefined)[],
  data: Readonly<Record<string, unknown>> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of parts) {
    if (!part) continue;
    for (const match of part.matchAll(PLACEHOLDER)) out[match[0]] = lookup(data, match[1] as string);
  }
  return out;
}

/**
 * A bulk message's subject, text and html with the placeholders filled for one recipient: what that
 * recipient receives when the content is sent message by message (a provider without native bulk, the
 * memory provider).
 *
 * @example
 * ```ts
 * renderContent({ subject: 'Hi {{name}}', text: 'Hello {{name}}' }, { name: 'Ada' });
 * // { subject: 'Hi Ada', text: 'Hello Ada' }
 * ```
 */
export function renderContent(
  content: { subject?: string | undefined; text?: string | undefined; html?: string | undefined },
  data: Readonly<Record<string, unknown>> | undefined,
): { subject?: string; text?: string; html?: string } {
  const out: { subject?: string; text?: string; html?: string } = {};
  for (const key of ['subject', 'text', 'html'] as const) {
    const value = content[key];
    if (value !== undefined) out[key] = renderPlaceholders(value, data);
  }
  return out;
}
