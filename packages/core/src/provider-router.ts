import type { ConfigSource } from './config-source.js';
import type { ProviderSource } from './configured-providers.js';
import { AppError } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import { computeBackoff, DEFAULT_RETRY_POLICY, type RetryPolicy, sleep } from './retry.js';

/**
 * What a failed provider call means for routing:
 * - `transient`: worth retrying on the same provider (HTTP 429, 5xx, network error, timeout); once the retries
 *   are spent, the next provider in the chain is tried.
 * - `provider`: this provider cannot serve now (bad credentials, account suspended): no retry, fail over.
 * - `permanent`: the request itself is wrong (rejected recipient, invalid payload): another provider would
 *   reject it too, so it is thrown at once.
 */
export type FailureKind = 'transient' | 'provider' | 'permanent';

/** The classification of one error. `retryAfterMs` honours a server's reset header (429 Retry-After). */
export interface FailureClassification {
  kind: FailureKind;
  retryAfterMs?: number;
}

/** Options of {@link createProviderRouter}. */
export interface ProviderRouterOptions<P> {
  /**
   * The providers by name, e.g. `{ ses: sesProvider(...), sendgrid: sendgridProvider(...) }`, or a
   * {@link ProviderSource} resolving them on demand (`configuredProviders(...)`: built from config). A
   * provider that cannot be resolved (invalid config) rejects the call with its error, before any attempt.
   */
  providers: Readonly<Record<string, P>> | ProviderSource<P>;
  /**
   * Where the choice of provider is read at every call, so a config change applies to the next call.
   * @default undefined (config is not read: `defaultChain` is used)
   */
  config?: ConfigSource;
  /** Config key holding the primary provider's name. @default undefined (use `defaultChain`) */
  providerKey?: string;
  /** Config key holding the names to fail over to, in order (array or comma-separated string). @default undefined */
  failoverKey?: string;
  /** The chain used when config names nothing. @default every provider, in the order given */
  defaultChain?: readonly string[];
  /** Tells transient, provider-level and permanent failures apart. */
  classify: (error: unknown) => FailureClassification;
  /** Retries on one provider for transient failures. @default DEFAULT_RETRY_POLICY (3 attempts, 100 ms doubling, full jitter) */
  retry?: Partial<RetryPolicy>;
  /** Upper bound honoured for a server-given retry delay, in ms. @default 30000 */
  maxRetryAfterMs?: number;
  /** Logs retries and failovers (never payloads). @default silentLogger */
  logger?: Logger;
  /** The package name used in error messages. @default '@app/core' */
  packageName?: string;
}

/** One failed attempt, as reported by {@link ProviderRouterError}. */
export interface ProviderAttempt {
  provider: string;
  attempt: number;
  kind: FailureKind;
  error: unknown;
}

/** The result of a routed call: the value, which provider gave it, and how many attempts it took. */
export interface RoutedResult<T> {
  value: T;
  provider: string;
  /** Attempts in all, on every provider tried (1: the first try of the first provider answered). */
  attempts: number;
  /** Providers given up on before the one that answered (0: the first provider answered). */
  failovers: number;
}

/** Codes of {@link ProviderRouterError}. */
export const ProviderRouterErrorCode = {
  ALL_PROVIDERS_FAILED: 'ALL_PROVIDERS_FAILED',
  UNKNOWN_PROVIDER: 'UNKNOWN_PROVIDER',
  NO_PROVIDER: 'NO_PROVIDER',
} as const;
export type ProviderRouterErrorCode = (typeof ProviderRouterErrorCode)[keyof typeof ProviderRouterErrorCode];

/** Thrown when configuration names no usable provider, or when every provider in the chain failed. */
export class ProviderRouterError extends AppError<ProviderRouterErrorCode> {
  /** Every failed attempt, in order. */
  readonly attempts: readonly ProviderAttempt[];
  constructor(pkg: string, code: ProviderRouterErrorCode, message: string, attempts: ProviderAttempt[] = []) {
    super(pkg, code, message, { cause: attempts.at(-1)?.error });
    this.attempts = attempts;
  }
}

/** Routes calls to providers chosen from config at call time, with retries and a failover chain. */
export interface ProviderRouter<P> {
  /** The provider names that the next call would try, in order. */
  chain(): Promise<string[]>;
  /** Runs `operation` on the first provider of the chain, retrying and failing over as classified. */
  run<T>(
    operation: (provider: P, name: string) => Promise<T>,
    options?: { signal?: AbortSignal },
  ): Promise<RoutedResult<T>>;
}

/**
 * Tells a {@link ProviderSource} from a record of providers: a record's values are providers, so it cannot
 * hold both a `use` function and a `names` array.
 */
function isProviderSource<P>(
  providers: Readonly<Record<string, P>> | ProviderSource<P>,
): providers is ProviderSource<P> {
  const source = providers as Partial<ProviderSource<P>>;
  return typeof source.use === 'function' && Array.isArray(source.names);
}

function toNames(value: unknown): string[] {
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.length > 0);
  return [];
}

/**
 * Creates a router that picks a provider from runtime config on every call, retries transient failures
 * with backoff and jitter (honouring a server's retry-after), and fails over along a chain on
 * provider-level failures. Permanent failures are thrown at once. `@app/email` and `@app/sms` build on it.
 *
 * @example
 * ```ts
 * const router = createProviderRouter({
 *   providers: { ses, sendgrid },
 *   config, providerKey: 'email.provider', failoverKey: 'email.failover',
 *   classify: (err) => (isRateLimit(err) ? { kind: 'transient', retryAfterMs: 1000 } : { kind: 'permanent' }),
 * });
 * const { value, provider } = await router.run((p) => p.send(message));
 * ```
 */
export function createProviderRouter<P>(options: ProviderRouterOptions<P>): ProviderRouter<P> {
  const pkg = options.packageName ?? '@app/core';
  const logger = options.logger ?? silentLogger;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const maxRetryAfter = options.maxRetryAfterMs ?? 30_000;
  const source: ProviderSource<P> = isProviderSource(options.providers)
    ? options.providers
    : recordSource(options.providers);
  const known = [...source.names];
  const defaultChain = options.defaultChain ? [...options.defaultChain] : known;

  async function chain(): Promise<string[]> {
    let names: string[] = [];
    if (options.config && options.providerKey) {
      names.push(...toNames(await options.config.get(options.providerKey)));
    }
    if (options.config && options.failoverKey) {
      names.push(...toNames(await options.config.get(options.failoverKey)));
    }
    if (names.length === 0) names = [...defaultChain];
    const unique = [...new Set(names)];
    for (const name of unique) {
      if (!known.includes(name)) {
        throw new ProviderRouterError(
          pkg,
          ProviderRouterErrorCode.UNKNOWN_PROVIDER,
          `config names provider '${name}', but only ${known.map((k) => `'${k}'`).join(', ') || 'none'} are registered`,
        );
      }
    }
    if (unique.length === 0) {
      throw new ProviderRouterError(pkg, ProviderRouterErrorCode.NO_PROVIDER, 'no provider is registered');
    }
    return unique;
  }

  async function run<T>(
    operation: (provider: P, name: string) => Promise<T>,
    runOptions: { signal?: AbortSignal } = {},
  ): Promise<RoutedResult<T>> {
    const names = await chain();
    const attempts: ProviderAttempt[] = [];
    for (const [failovers, name] of names.entries()) {
      for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
        // An aborted call starts no further attempt, on this provider or the next.
        runOptions.signal?.throwIfAborted();
        // Resolved at each attempt, so a retry runs on a provider rebuilt in between.
        let started = false;
        try {
          const value = await source.use(name, (provider) => {
            started = true;
            return operation(provider, name);
          });
          return { value, provider: name, attempts: attempts.length + 1, failovers };
        } catch (error) {
          // The provider could not be resolved (invalid config): no attempt was made, and no other
          // provider would fix the configuration.
          if (!started) throw error;
          const { kind, retryAfterMs } = options.classify(error);
          attempts.push({ provider: name, attempt, kind, error });
          if (kind === 'permanent') throw error;
          if (kind === 'provider' || attempt === policy.maxAttempts) {
            logger.warn({ provider: name, attempt, kind }, 'provider failed; trying the next one');
            break;
          }
          const delay =
            retryAfterMs !== undefined
              ? Math.min(retryAfterMs, maxRetryAfter)
              : computeBackoff(attempt, policy);
          logger.debug({ provider: name, attempt, delayMs: delay }, 'transient provider failure; retrying');
          await sleep(delay, runOptions.signal);
        }
      }
    }
    throw new ProviderRouterError(
      pkg,
      ProviderRouterErrorCode.ALL_PROVIDERS_FAILED,
      `every provider failed (${names.join(' -> ')}); last error: ${String((attempts.at(-1)?.error as Error)?.message ?? attempts.at(-1)?.error)}`,
      attempts,
    );
  }

  return { chain, run };
}

function recordSource<P>(providers: Readonly<Record<string, P>>): ProviderSource<P> {
  return {
    names: Object.keys(providers),
    use: async (name, fn) => fn(providers[name] as P),
  };
}
