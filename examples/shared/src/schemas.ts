import type { StandardSchemaV1 } from '@app/core';

/** The email providers the demo knows. Both are memory providers named so (see `createServices`). */
export const EMAIL_PROVIDERS = ['ses', 'sendgrid'] as const;
/** One of {@link EMAIL_PROVIDERS}. */
export type EmailProviderName = (typeof EMAIL_PROVIDERS)[number];

function oneOf<const T extends readonly string[]>(values: T): StandardSchemaV1<T[number]> {
  return {
    '~standard': {
      version: 1,
      vendor: '@app-examples/shared',
      validate: (value) =>
        typeof value === 'string' && (values as readonly string[]).includes(value)
          ? { value: value as T[number] }
          : { issues: [{ message: `must be one of ${values.map((v) => `'${v}'`).join(', ')}` }] },
    },
  };
}

/**
 * Typed config keys (any Standard Schema fits; this one is hand-written to keep the example dependency-free):
 * `config.set('email.provider', 'smtp')` is a type error, and a `ConfigError` INVALID_VALUE at runtime,
 * before anything is written.
 */
export const CONFIG_SCHEMAS = {
  'email.provider': oneOf(EMAIL_PROVIDERS),
} satisfies Record<string, StandardSchemaV1>;

/** The typed keys of the app's config. */
export type AppConfigSchemas = typeof CONFIG_SCHEMAS;
