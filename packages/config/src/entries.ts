import { type Logger, type StandardSchemaV1, validateWithSchema } from '@app/core';
import { ConfigError } from './errors.js';
import type { ConfigRecord } from './types.js';

/** What the in-process cache holds for one key. */
export interface CacheEntry {
  readonly version: number;
  readonly deleted: boolean;
  /** Parsed (schema output) for typed keys, the frozen JSON otherwise. */
  readonly value: unknown;
  /** Set when a typed key's stored value fails its schema: reads throw it. */
  readonly invalid: ConfigError | undefined;
  readonly valueExpiresAt: number | null;
  freshUntil: number;
}

/** Freezes a JSON value in place, all the way down. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** What a read of `entry` returns at `now`: its value, `defaultValue` when deleted or expired; throws when invalid. */
export function readEntry(entry: CacheEntry, defaultValue: unknown, now: number): unknown {
  if (entry.deleted || (entry.valueExpiresAt !== null && entry.valueExpiresAt <= now)) return defaultValue;
  if (entry.invalid) throw entry.invalid;
  return entry.value;
}

/**
 * Typed keys: validates values on the way in (`set`) and records on the way out (every read), and turns
 * records into cache entries. Untyped keys are handled synchronously, with no promise in between.
 */
export class TypedKeys {
  constructor(
    private readonly schemas: Record<string, StandardSchemaV1> | undefined,
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly ttlMs: number,
  ) {}

  /**
   * Rejects with `INVALID_VALUE` when `value` fails the schema of `key`; `undefined` (nothing to wait for)
   * for an untyped key.
   */
  checkInput(key: string, value: unknown): Promise<void> | undefined {
    const schema = this.schemas?.[key];
    if (!schema) return undefined;
    return validateWithSchema(schema, value).then((result) => {
      if (!result.ok) {
        throw new ConfigError(
          'INVALID_VALUE',
          `value of '${key}' fails its schema: ${result.issues.join('; ')}`,
          { issues: result.issues },
        );
      }
    });
  }

  /** Turns a record into a cache entry, validating typed keys: synchronous unless the key has a schema. */
  toEntry(record: ConfigRecord): CacheEntry | Promise<CacheEntry> {
    const freshUntil = this.now() + this.ttlMs;
    if (record.deleted) {
      return {
        version: record.version,
        deleted: true,
        value: undefined,
        invalid: undefined,
        valueExpiresAt: null,
        freshUntil,
      };
    }
    const schema = this.schemas?.[record.key];
    const entry = {
      version: record.version,
      deleted: false,
      value: deepFreeze(record.value) as unknown,
      invalid: undefined as ConfigError | undefined,
      valueExpiresAt: record.expiresAt,
      freshUntil,
    };
    if (!schema) return entry;
    return validateWithSchema(schema, record.value).then((result) => {
      if (result.ok) {
        entry.value = result.value;
        return entry;
      }
      entry.invalid = new ConfigError(
        'INVALID_VALUE',
        `stored value of '${record.key}' (version ${record.version}) fails its schema: ${result.issues.join('; ')}`,
        { issues: result.issues },
      );
      this.logger.error(
        { key: record.key, version: record.version, issues: result.issues },
        entry.invalid.message,
      );
      return entry;
    });
  }
}
