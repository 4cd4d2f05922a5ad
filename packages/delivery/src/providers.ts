import {
  type ConfigSource,
  type ConfiguredProviders,
  ConfiguredProvidersErrorCode,
  configuredProviders,
  createProviderRouter,
  type FailureClassification,
  isAppError,
  type Logger,
  type ProviderAttempt,
  type ProviderRouter,
  ProviderRouterErrorCode,
  type RetryPolicy,
  type RoutedResult,
  type TelemetrySetting,
} from '@app/core';
import { deliveryTelemetry } from './telemetry.js';

/**
 * The provider options every delivery service takes (`createEmailService`, `createSmsService`): ready
 * providers or providers built from config, where the choice is read, retries, and the classification.
 * `P` is the channel's provider interface, `F` its factory type.
 */
export interface DeliveryProviderOptions<P, F> {
  /**
   * The providers by name, e.g. `{ ses: sesProvider(...), sendgrid: sendgridProvider(...) }`.
   * @default undefined (then `providerFactories` is required)
   */
  providers?: Readonly<Record<string, P>>;
  /**
   * Providers built from their options in config instead: `{ twilio: twilioProvider }` builds `twilio` from
   * the object at `<channel>.providers.twilio` on first use, and rebuilds it when that key changes (a failed
   * rebuild keeps the previous one and logs). Needs `config`. The service closes the providers it built.
   * @default undefined (then `providers` is required)
   */
  providerFactories?: Readonly<Record<string, F>>;
  /** Config key under which each provider's options live, with `providerFactories`. @default '<channel>.providers' */
  providersKey?: string;
  /**
   * Where the provider choice (and, with `providerFactories`, each provider's options) is read at every
   * call, so a config change applies to the next message. Required with `providerFactories`.
   * @default undefined (use `defaultChain`)
   */
  config?: ConfigSource;
  /** Config key naming the primary provider. @default '<channel>.provider' */
  providerKey?: string;
  /** Config key naming the providers to fail over to, in order (array or comma-separated string). @default '<channel>.failover' */
  failoverKey?: string;
  /** The chain used when config names nothing. @default every provider, in the order given */
  defaultChain?: readonly string[];
  /** Retries on one provider for transient failures (429, 5xx, network, timeout). @default 3 attempts, 100 ms doubling, full jitter */
  retry?: Partial<RetryPolicy>;
  /** Upper bound honoured for a provider's Retry-After or rate-limit reset, in ms. @default 30000 */
  maxRetryAfterMs?: number;
  /** Tells transient, provider-level and permanent failures apart. @default the channel's (classifyEmailError, classifySmsError) */
  classify?: (error: unknown) => FailureClassification;
  /** Logs retries, failovers and rebuilds (never content, addresses or numbers). @default silentLogger */
  logger?: Logger;
  /**
   * Traces and metrics through `@opentelemetry/api`: a span per send with one child per provider attempt,
   * sends by provider and outcome, attempt durations (see docs/observability.md). Pass providers, or
   * `false` for none. @default the global providers (free when no SDK is registered)
   */
  telemetry?: TelemetrySetting;
}

/**
 * The codes every channel's error class has, for {@link deliveryProviders} to translate failures into it:
 * - `INVALID_OPTIONS`: a factory or a call was given unusable options (thrown before any I/O);
 * - `INVALID_PROVIDER_CONFIG`: a provider's options in config (`<channel>.providers.<name>`) are missing or
 *   invalid, so it could not be built; the message names the key, never the values (the factory's error is
 *   the `cause`);
 * - `ALL_PROVIDERS_FAILED`: every provider of the chain failed; `attempts` lists each try;
 * - `UNKNOWN_PROVIDER`: config names a provider that was not registered;
 * - `NO_PROVIDER`: no provider is registered;
 * - `CLOSED`: the service was closed.
 * A channel spreads them into its own list: `defineErrors('@app/sms', [...own, ...DELIVERY_ERROR_CODES])`.
 */
export const DELIVERY_ERROR_CODES = [
  'INVALID_OPTIONS',
  'INVALID_PROVIDER_CONFIG',
  'ALL_PROVIDERS_FAILED',
  'UNKNOWN_PROVIDER',
  'NO_PROVIDER',
  'CLOSED',
  'STORE_UNAVAILABLE',
] as const;

/** One of {@link DELIVERY_ERROR_CODES}. */
export type DeliveryRoutingCode = (typeof DELIVERY_ERROR_CODES)[number];

/** Makes the calling package's error: `(code, message, details) => new EmailError(code, message, details)`. */
export type DeliveryErrorFactory = (
  code: DeliveryRoutingCode,
  message: string,
  details: { cause?: unknown; provider?: string; attempts?: readonly ProviderAttempt[] },
) => Error;

/** What {@link deliveryProviders} needs besides the user's options. */
export interface DeliveryChannel<P> {
  /**
   * The channel, e.g. `email`: its package is `@app/<channel>` (router messages carry that prefix), its
   * config keys `<channel>.provider`, `<channel>.failover`, `<channel>.providers.*`, its service
   * `create<Channel>Service`.
   */
  channel: string;
  /** The channel's default classification. */
  classify: (error: unknown) => FailureClassification;
  /** Makes the package's own error. */
  error: DeliveryErrorFactory;
  /** Tells a provider from anything else. @default has a `send` method */
  isProvider?: (value: unknown) => value is P;
}

/** The channel descriptor with its derived names. */
interface Channel<P> extends DeliveryChannel<P> {
  packageName: string;
  serviceName: string;
  isProvider: (value: unknown) => value is P;
}

const hasSend = <P>(value: unknown): value is P =>
  typeof (value as { send?: unknown } | null | undefined)?.send === 'function';

function describeChannel<P>(channel: DeliveryChannel<P>): Channel<P> {
  const title = channel.channel.charAt(0).toUpperCase() + channel.channel.slice(1);
  return {
    ...channel,
    packageName: `@app/${channel.channel}`,
    serviceName: `create${title}Service`,
    isProvider: channel.isProvider ?? hasSend<P>,
  };
}

/** The providers of a delivery service, routed. Every failure it throws is the channel's own error class. */
export interface DeliveryProviders<P> {
  /**
   * Runs `operation` on the chain, with retries and failover; see `ProviderRouter.run`. `signal` aborts the
   * waits between attempts; `lock` (an idempotent send past half its lock) also stops any further attempt.
   */
  run<T>(
    operation: (provider: P, name: string) => Promise<T>,
    options?: { signal?: AbortSignal | undefined; lock?: AbortSignal | undefined },
  ): Promise<RoutedResult<T>>;
  /** The provider names the next call would try, in order (reads config). */
  chain(): Promise<string[]>;
  /** The provider `name`, building it from config if needed; undefined when unknown. */
  get(name: string): Promise<P | undefined>;
  /** The providers built so far (configured ones not used yet are left out). */
  built(): P[];
  /** Closes the providers this helper built from config; providers passed ready stay open. */
  close(): Promise<void>;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The one checked build of a delivery service's providers: ready `providers` or `providerFactories` built
 * from config (checked: an object per provider, the factory's failure becomes `INVALID_PROVIDER_CONFIG`),
 * routed by `createProviderRouter` on the config keys `<channel>.provider` / `<channel>.failover`. Every
 * router and config failure (`ALL_PROVIDERS_FAILED`, `UNKNOWN_PROVIDER`, `NO_PROVIDER`, `CLOSED`) is
 * rethrown as the calling package's own error class, with the attempts and cause kept.
 *
 * @example
 * ```ts
 * const providers = deliveryProviders(options, {
 *   channel: 'sms', // @app/sms, sms.provider, sms.failover, sms.providers.*
 *   classify: classifySmsError,
 *   error: (code, message, details) => new SmsError(code, message, details),
 * });
 * const { value, provider } = await providers.run((p) => p.send(to, body));
 * ```
 */
export function deliveryProviders<P, F extends (options: never, name: string) => P | Promise<P>>(
  options: DeliveryProviderOptions<P, F>,
  descriptor: DeliveryChannel<P>,
): DeliveryProviders<P> {
  const channel = describeChannel(descriptor);
  const fail = (message: string) => channel.error('INVALID_OPTIONS', message, {});
  if (typeof options !== 'object' || options === null) throw fail(`${channel.serviceName} needs options`);
  const logger = options.logger;
  const configured = options.providerFactories === undefined ? undefined : fromConfig(options, channel);
  const ready = configured ? undefined : checkReady(options.providers, channel);
  const router: ProviderRouter<P> = createProviderRouter<P>({
    providers: configured ?? ready ?? {},
    config: options.config,
    providerKey: options.providerKey ?? `${channel.channel}.provider`,
    failoverKey: options.failoverKey ?? `${channel.channel}.failover`,
    defaultChain: options.defaultChain,
    classify: options.classify ?? channel.classify,
    retry: options.retry,
    maxRetryAfterMs: options.maxRetryAfterMs,
    logger,
    packageName: channel.packageName,
  });
  const translate = (error: unknown): unknown => translateRouting(error, channel);
  const telemetry = deliveryTelemetry(channel.channel, options.telemetry);
  return {
    run: (operation, { signal, lock } = {}) => {
      const waits = lock ? (signal ? AbortSignal.any([signal, lock]) : lock) : signal;
      return telemetry.send((attempt) => {
        const guarded = (provider: P, name: string) => {
          lock?.throwIfAborted();
          return attempt(name, () => operation(provider, name));
        };
        return router.run(guarded, waits ? { signal: waits } : {}).catch((error) => {
          throw translate(error);
        });
      });
    },
    chain: () =>
      router.chain().catch((error) => {
        throw translate(error);
      }),
    get: async (name) => {
      if (!configured) return ready?.[name];
      if (!configured.names.includes(name)) return undefined;
      return configured.get(name).catch((error) => {
        throw translate(error);
      });
    },
    built: () =>
      configured
        ? configured.names.flatMap((name) => {
            const p = configured.peek(name);
            return p === undefined ? [] : [p];
          })
        : Object.values(ready ?? {}),
    close: async () => {
      await configured?.close();
    },
  };
}

const ROUTING_ERRORS = new Set(['ProviderRouterError', 'ConfiguredProvidersError']);

/** Rethrows a router or configured-providers failure as the channel's own error; others pass through. */
function translateRouting<P>(error: unknown, channel: Channel<P>): unknown {
  // Only the router's and the configured providers' own errors (by name: works across duplicate installs).
  if (!isAppError(error) || !ROUTING_ERRORS.has(error.name)) return error;
  const message = error.message.replace(/^\[[^\]]+\] /, '');
  const attempts = (error as { attempts?: readonly ProviderAttempt[] }).attempts;
  switch (error.code) {
    case ProviderRouterErrorCode.ALL_PROVIDERS_FAILED:
      return channel.error('ALL_PROVIDERS_FAILED', message, { cause: error.cause, attempts: attempts ?? [] });
    case ProviderRouterErrorCode.UNKNOWN_PROVIDER:
      return channel.error('UNKNOWN_PROVIDER', message, { cause: error });
    case ProviderRouterErrorCode.NO_PROVIDER:
      return channel.error('NO_PROVIDER', message, { cause: error });
    case ConfiguredProvidersErrorCode.CLOSED:
      return channel.error('CLOSED', message, { cause: error });
    default:
      return error;
  }
}

function checkReady<P>(
  providers: Readonly<Record<string, P>> | undefined,
  channel: Channel<P>,
): Readonly<Record<string, P>> {
  const fail = (message: string) => channel.error('INVALID_OPTIONS', message, {});
  if (providers === undefined) {
    throw fail(
      `${channel.serviceName} needs providers (ready providers) or providerFactories (providers built from config)`,
    );
  }
  // An empty record is allowed: every call then fails with the channel's NO_PROVIDER.
  if (!isPlainObject(providers)) throw fail(`${channel.serviceName}: providers must be an object`);
  for (const [name, p] of Object.entries(providers)) {
    if (!channel.isProvider(p)) throw fail(`provider '${name}' has no send method`);
  }
  return providers;
}

/** The providers of `providerFactories`, built from `${providersKey}.<name>` and rebuilt on change. */
function fromConfig<P, F extends (options: never, name: string) => P | Promise<P>>(
  options: DeliveryProviderOptions<P, F>,
  channel: Channel<P>,
): ConfiguredProviders<P> {
  const fail = (message: string) => channel.error('INVALID_OPTIONS', message, {});
  const factories = options.providerFactories;
  if (options.providers !== undefined) {
    throw fail('give providers or providerFactories, not both (a name would be ambiguous)');
  }
  if (!isPlainObject(factories) || Object.keys(factories).length === 0) {
    throw fail('providerFactories must name at least one provider');
  }
  for (const [name, factory] of Object.entries(factories)) {
    if (typeof factory !== 'function') throw fail(`providerFactories.${name} is not a function`);
  }
  const config = options.config;
  if (typeof config?.get !== 'function' || typeof config.watch !== 'function') {
    throw fail('providerFactories needs config (a ConfigSource) to read the provider options from');
  }
  const prefix = (options.providersKey ?? `${channel.channel}.providers`).replace(/\.$/, '');
  if (prefix === '') throw fail('providersKey must be a non-empty config key');
  const own = new RegExp(`^\\[${channel.packageName.replace(/[/\\^$.*+?()[\]{}|-]/g, '\\$&')}\\] `);
  const build = (name: string, factory: F) => async (value: unknown) => {
    const key = `${prefix}.${name}`;
    if (!isPlainObject(value)) {
      const found = value === undefined ? 'nothing' : Array.isArray(value) ? 'an array' : typeof value;
      throw channel.error(
        'INVALID_PROVIDER_CONFIG',
        `config key '${key}' must hold the options of provider '${name}' as an object; found ${found}`,
        { provider: name },
      );
    }
    let provider: P;
    try {
      provider = await factory(value as never, name);
    } catch (error) {
      const reason = error instanceof Error ? error.message.replace(own, '') : String(error);
      throw channel.error(
        'INVALID_PROVIDER_CONFIG',
        `provider '${name}' cannot be built from config key '${key}': ${reason}`,
        { cause: error, provider: name },
      );
    }
    if (!channel.isProvider(provider)) {
      throw fail(`providerFactories.${name} returned no provider (no send method)`);
    }
    return provider;
  };
  return configuredProviders<P>({
    config,
    keyPrefix: prefix,
    factories: Object.fromEntries(Object.entries(factories).map(([name, f]) => [name, build(name, f)])),
    logger: options.logger,
    packageName: channel.packageName,
  });
}
