export type { ConfigSource, ConfigWatchCallback, Unsubscribe } from './config-source.js';
export type {
  ConfiguredProviderFactory,
  ConfiguredProviders,
  ConfiguredProvidersOptions,
  ProviderSource,
} from './configured-providers.js';
export {
  ConfiguredProvidersError,
  ConfiguredProvidersErrorCode,
  configuredProviders,
} from './configured-providers.js';
export type { AppErrorOptions } from './errors.js';
export { AppError, isAppError } from './errors.js';
export type { EventSink } from './event-sink.js';
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';
export type {
  FailureClassification,
  FailureKind,
  ProviderAttempt,
  ProviderRouter,
  ProviderRouterOptions,
  RoutedResult,
} from './provider-router.js';
export {
  createProviderRouter,
  ProviderRouterError,
  ProviderRouterErrorCode,
} from './provider-router.js';
export type { RetryDecision, RetryOptions, RetryPolicy } from './retry.js';
export { computeBackoff, DEFAULT_RETRY_POLICY, retry, sleep } from './retry.js';
export type { StandardSchemaV1 } from './standard-schema.js';
export { validateWithSchema } from './standard-schema.js';
