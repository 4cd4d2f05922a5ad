import { EmailError, EmailErrorCode } from '../errors.js';

/** What one option must be. */
export type OptionKind = 'string' | 'url' | 'boolean' | 'object' | 'positive' | 'count';

const valid: Record<OptionKind, (value: unknown) => boolean> = {
  string: (v) => typeof v === 'string' && v.length > 0,
  url: (v) => typeof v === 'string' && /^https?:\/\/[^\s/]+/i.test(v) && URL.canParse(v),
  boolean: (v) => typeof v === 'boolean',
  object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  positive: (v) => typeof v === 'number' && Number.isFinite(v) && v > 0,
  count: (v) => typeof v === 'number' && Number.isInteger(v) && v > 0,
};

const expected: Record<OptionKind, string> = {
  string: 'a non-empty string',
  url: 'an absolute http(s) URL',
  boolean: 'a boolean',
  object: 'an object',
  positive: 'a positive number',
  count: 'a positive integer',
};

/**
 * Checks a provider factory's options against `spec` (types of the known options, and no unknown ones,
 * which are most often a misplaced option in config), listing every problem in one `INVALID_OPTIONS`
 * error. Option values are never echoed: they may be secrets.
 */
export function checkOptions(provider: string, options: unknown, spec: Record<string, OptionKind>): void {
  if (!valid.object(options)) {
    throw new EmailError(EmailErrorCode.INVALID_OPTIONS, `[${provider}] options must be an object`);
  }
  const issues: string[] = [];
  for (const [key, value] of Object.entries(options as Record<string, unknown>)) {
    const kind = spec[key];
    if (!Object.hasOwn(spec, key) || kind === undefined) {
      issues.push(`unknown option '${key}' (known: ${Object.keys(spec).join(', ')})`);
    } else if (value !== undefined && !valid[kind](value)) {
      issues.push(`'${key}' must be ${expected[kind]}`);
    }
  }
  if (issues.length > 0) {
    throw new EmailError(EmailErrorCode.INVALID_OPTIONS, `[${provider}] ${issues.join('; ')}`, { issues });
  }
}
