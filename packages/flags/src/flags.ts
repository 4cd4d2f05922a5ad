import {
  type Closeable,
  type ConfigSource,
  type Logger,
  silentLogger,
  type TelemetrySetting,
  type Unsubscribe,
} from '@app/core';
import { FlagsError, FlagsErrorCode } from './errors.js';
import { type CompiledFlag, compileFlag, evaluateFlag, isFlagEnabled } from './evaluate.js';
import { canList, flagKeys, type ListsKeys, parseIndex, readListing } from './keys.js';
import { flagsTelemetry } from './telemetry.js';
import type { Evaluation, FlagContext, FlagDefinition, VariantResult } from './types.js';
import { ANY_STICKINESS, isValidFlagName, validateFlagDefinition } from './validate.js';

/**
 * Where flags are read from: any `ConfigSource` (`get` + `watch`), optionally with `list(prefix)`.
 * `@app/config`'s service has all three.
 */
export type FlagSource = ConfigSource & Partial<ListsKeys>;

/** Options of {@link createFlags}. */
export interface FlagsOptions {
  /**
   * Where definitions are read and watched: `@app/config`'s service, or any `ConfigSource`. With a
   * `list(prefix)` method the flags are found by listing `keyPrefix`; without one, through the index key.
   */
  source: FlagSource;
  /** The config key prefix: a flag lives at `<keyPrefix><name>`, the index at `<keyPrefix>_index`. @default 'flags.' */
  keyPrefix?: string;
  /**
   * Load exactly these flags instead of every flag under `keyPrefix`. Changes to other flags are ignored.
   * @default undefined (every flag: listed by the source, or read from the index when it cannot list)
   */
  flags?: readonly string[];
  /** Receives load failures and rejected definitions. @default silentLogger */
  logger?: Logger;
  /** The clock that date conditions on `currentTime` compare against, in epoch ms. @default Date.now */
  now?: () => number;
  /**
   * OpenTelemetry: each evaluation becomes a `feature_flag.evaluation` event on the active span and counts
   * in `app.flags.evaluations` (see docs/observability.md). Pass providers, or `false` to record nothing.
   * Free when `@opentelemetry/api` is absent or no SDK is registered.
   * @default the global tracer and meter providers
   */
  telemetry?: TelemetrySetting;
}

/** What {@link Flags.onChange} listeners receive: the flags whose definition changed, appeared or went away. */
export interface FlagsChange {
  flags: string[];
}

/** Feature flags evaluated from an in-memory snapshot that follows config live. */
export interface Flags extends Closeable {
  /** Resolves once the snapshot has loaded; rejects with `SOURCE_ERROR` when the source failed. */
  ready(): Promise<void>;
  /** Whether `flag` is on for `context`. Unknown flags are off. */
  isEnabled(flag: string, context?: FlagContext): boolean;
  /** The variant `context` gets; `{ name: 'disabled', enabled: false }` when the flag is off or has none. */
  getVariant(flag: string, context?: FlagContext): VariantResult;
  /** The full answer with its reason (DISABLED, TARGETING_MATCH, SPLIT, DEFAULT or ERROR). */
  evaluate(flag: string, context?: FlagContext): Evaluation;
  /** Every known flag evaluated for `context`, e.g. to bootstrap a front end. */
  evaluateAll(context?: FlagContext): Record<string, Evaluation>;
  /** The names of the flags in the snapshot, sorted. */
  names(): string[];
  /** The validated definition of `flag` in the snapshot, if any. */
  definition(flag: string): FlagDefinition | undefined;
  /** Calls `listener` after flags change (on this instance or, through the source, any other). */
  onChange(listener: (change: FlagsChange) => void): Unsubscribe;
  /** Stops watching the source (idempotent). The last snapshot keeps answering. */
  close(): Promise<void>;
}

type Entry = { compiled: CompiledFlag } | { compiled?: undefined; error: string };

const DISABLED_VARIANT: VariantResult = Object.freeze({ name: 'disabled', enabled: false });
const EMPTY: FlagContext = Object.freeze({});

/**
 * Creates the flags of an application. It loads every definition once and then follows config changes;
 * evaluations read the snapshot and do no I/O. Which flags: the `flags` you name; otherwise every key under
 * `keyPrefix` when the source has `list(prefix)` (as `@app/config` does), else the names in the index key.
 *
 * @example
 * ```ts
 * const flags = createFlags({ source: config });
 * await flags.ready();
 * if (flags.isEnabled('new-checkout', { userId: 'u-42', country: 'FR' })) showNewCheckout();
 * ```
 */
export function createFlags(options: FlagsOptions): Flags {
  const { source, logger = silentLogger, now = Date.now } = options;
  if (!source || typeof source.get !== 'function' || typeof source.watch !== 'function') {
    throw new FlagsError(
      FlagsErrorCode.INVALID_OPTIONS,
      'createFlags needs a `source` with get(key) and watch(key, cb)',
    );
  }
  const keys = flagKeys(options.keyPrefix);
  const { listening, record } = flagsTelemetry(options.telemetry);
  const explicit = options.flags ? new Set(options.flags) : undefined;
  if (explicit) {
    for (const name of explicit) {
      if (!isValidFlagName(name)) {
        throw new FlagsError(
          FlagsErrorCode.INVALID_FLAG_NAME,
          `invalid flag name ${JSON.stringify(name)} in \`flags\``,
        );
      }
    }
  }

  // A source that lists is the truth about which flags exist: no index to read, follow, or trust.
  const listing = !explicit && canList(source) ? source : undefined;
  const entries = new Map<string, Entry>();
  // Names this instance follows without a listing: the index (or the explicit list). Definition events for
  // other names are ignored so that a running instance sees exactly what a fresh one would load.
  let known = new Set<string>(explicit ?? []);
  // Bumped on every event for a key, so a slower `get` never overwrites a newer pushed value.
  const versions = new Map<string, number>();
  const listeners = new Set<(change: FlagsChange) => void>();
  let loaded = false;
  let closed = false;

  const emit = (names: string[]) => {
    if (names.length === 0 || closed) return;
    const change = { flags: names };
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        logger.error({ err: error }, '[@app/flags] change listener threw');
      }
    }
  };

  /** Applies a definition value (object or JSON text); returns whether the snapshot changed. */
  const apply = (name: string, value: unknown): boolean => {
    if (value === undefined || value === null) return entries.delete(name);
    let raw = value;
    if (typeof raw === 'string') {
      try {
        raw = JSON.parse(raw);
      } catch {
        raw = Symbol('unparseable');
      }
    }
    const result = validateFlagDefinition(raw, ANY_STICKINESS);
    if (result.ok) {
      entries.set(name, { compiled: compileFlag(name, result.value) });
      return true;
    }
    const previous = entries.get(name);
    logger.error(
      { flag: name, issues: result.issues, keptPrevious: previous?.compiled !== undefined },
      '[@app/flags] ignoring an invalid flag definition',
    );
    if (previous?.compiled) return false;
    entries.set(name, { error: `invalid definition: ${result.issues.join('; ')}` });
    return true;
  };

  const load = async (name: string): Promise<boolean> => {
    const version = versions.get(name) ?? 0;
    const value = await source.get(keys.flag(name));
    if ((versions.get(name) ?? 0) !== version || closed) return false;
    return apply(name, value);
  };

  const loadMany = async (names: string[]): Promise<string[]> => {
    const changed = await Promise.all(names.map((n) => load(n).then((c) => (c ? n : undefined))));
    return changed.filter((n): n is string => n !== undefined);
  };

  const onIndex = async (value: unknown) => {
    const next = new Set(parseIndex(value).filter(isValidFlagName));
    const added = [...next].filter((n) => !known.has(n));
    const removed = [...known].filter((n) => !next.has(n));
    known = next;
    emit(removed.filter((n) => entries.delete(n)));
    try {
      emit(await loadMany(added));
    } catch (error) {
      logger.error({ err: error, flags: added }, '[@app/flags] failed to load flags added to the index');
    }
  };

  const unwatch = source.watch(keys.watch, (value, key) => {
    if (closed || !key.startsWith(keys.prefix)) return;
    if (key === keys.index) {
      if (!explicit && !listing) void onIndex(value);
      return;
    }
    const name = key.slice(keys.prefix.length);
    if (listing ? !isValidFlagName(name) : !known.has(name)) return;
    versions.set(name, (versions.get(name) ?? 0) + 1);
    if (apply(name, value)) emit([name]);
  });

  const readyPromise = (async () => {
    try {
      if (listing) {
        // Events that arrive while the listing is read are newer than it: they win.
        const seen = new Map(versions);
        const listed = readListing(await listing.list(keys.prefix), keys.prefix);
        if (!closed) {
          for (const [name, value] of listed) {
            if (isValidFlagName(name) && (versions.get(name) ?? 0) === (seen.get(name) ?? 0))
              apply(name, value);
          }
        }
      } else {
        if (!explicit) {
          const indexed = parseIndex(await source.get(keys.index)).filter(isValidFlagName);
          for (const n of indexed) known.add(n);
        }
        await loadMany([...known]);
      }
      loaded = true;
      logger.debug({ flags: entries.size }, '[@app/flags] flags loaded');
    } catch (error) {
      if (error instanceof FlagsError) throw error;
      throw new FlagsError(FlagsErrorCode.SOURCE_ERROR, 'failed to load flags from the config source', {
        cause: error,
      });
    }
  })();
  // Callers that never await ready() must not see an unhandled rejection; ready() still reports it.
  readyPromise.catch(() => {});

  const missing = (flag: string): Evaluation =>
    loaded
      ? {
          flag,
          enabled: false,
          reason: 'ERROR',
          errorCode: 'FLAG_NOT_FOUND',
          errorMessage: `flag "${flag}" is not defined`,
        }
      : {
          flag,
          enabled: false,
          reason: 'ERROR',
          errorCode: 'PROVIDER_NOT_READY',
          errorMessage: 'flags are still loading',
        };

  const evaluateUnrecorded = (flag: string, context: FlagContext): Evaluation => {
    const entry = entries.get(flag);
    if (!entry) return missing(flag);
    if (!entry.compiled)
      return { flag, enabled: false, reason: 'ERROR', errorCode: 'PARSE_ERROR', errorMessage: entry.error };
    return evaluateFlag(entry.compiled, context, now);
  };
  const evaluate = (flag: string, context: FlagContext = EMPTY): Evaluation =>
    record(evaluateUnrecorded(flag, context));

  const close = async () => {
    if (closed) return;
    closed = true;
    unwatch();
    listeners.clear();
  };

  return {
    ready: () => readyPromise,
    isEnabled(flag, context = EMPTY) {
      // Recorded evaluations need the reason: only then does isEnabled take the full path.
      if (listening()) return evaluate(flag, context).enabled;
      const compiled = entries.get(flag)?.compiled;
      return compiled ? isFlagEnabled(compiled, context, now) : false;
    },
    getVariant(flag, context) {
      return evaluate(flag, context).variant ?? DISABLED_VARIANT;
    },
    evaluate,
    evaluateAll(context) {
      const out: Record<string, Evaluation> = {};
      for (const name of [...entries.keys()].sort()) out[name] = evaluate(name, context);
      return out;
    },
    names: () => [...entries.keys()].sort(),
    definition: (flag) => entries.get(flag)?.compiled?.definition,
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
