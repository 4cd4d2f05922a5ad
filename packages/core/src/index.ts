export type { Closeable } from './closeable.js';
export { closeable } from './closeable.js';
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
export { Deadlines } from './deadlines.js';
export type { DestinationCheck, DestinationFailure } from './destination.js';
export {
  checkEmailAddress,
  checkPhoneNumber,
  DestinationError,
  DestinationErrorCode,
  E164_PATTERN,
  isE164,
  isEmailAddress,
  maskEmailAddress,
  maskPhoneNumber,
  normalizeEmailAddress,
  normalizePhoneNumber,
} from './destination.js';
export * from './errors.js';
export * from './event-sink.js';
export * from './limiter.js';
export * from './logger.js';
export * from './prisma-provider.js';
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
export type { RedisScript, ScriptClient } from './redis-script.js';
export { defineScript, isNoScriptError, runScript, withDeadline } from './redis-script.js';
export type { RetryDecision, RetryOptions, RetryPolicy } from './retry.js';
export { computeBackoff, DEFAULT_RETRY_POLICY, retry, sleep } from './retry.js';
export type { StandardSchemaV1 } from './standard-schema.js';
export { validateWithSchema } from './standard-schema.js';
export type {
  AttributesInput,
  GaugeCallback,
  InstrumentOptions,
  MeterLike,
  MeterProviderLike,
  ObservableLike,
  ObservableResultLike,
  Telemetry,
  TelemetryCounter,
  TelemetryGauge,
  TelemetryHistogram,
  TelemetryOptions,
  TelemetrySetting,
  TelemetrySpan,
  TelemetrySpanKind,
  TelemetrySpanLike,
  TelemetrySpanOptions,
  TelemetryTally,
  TracerLike,
  TracerProviderLike,
} from './telemetry.js';
export { createTelemetry, errorType } from './telemetry.js';
export { quietListener } from './telemetry-listening.js';
export * from './telemetry-scrub.js';
export * from './trace-context.js';
export * from './validate.js';
