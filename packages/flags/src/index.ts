export { FlagsError, FlagsErrorCode, isFlagsError } from './errors.js';
export type { CompiledFlag } from './evaluate.js';
export { compileFlag, evaluateFlag } from './evaluate.js';
export type { FlagSource, Flags, FlagsChange, FlagsOptions } from './flags.js';
export { createFlags } from './flags.js';
export type { FlagListing, ListsKeys } from './keys.js';
export { DEFAULT_KEY_PREFIX } from './keys.js';
export { murmurhash3, rolloutBucket, STRATEGY_SEED, VARIANT_SEED, variantBucket } from './murmur.js';
export { FLAGS_PROVIDER_NAME } from './telemetry.js';
export type {
  Condition,
  ConditionOperator,
  ContextValue,
  Evaluation,
  EvaluationErrorCode,
  EvaluationReason,
  FlagContext,
  FlagDefinition,
  JsonValue,
  TargetingRule,
  Variant,
  VariantOverride,
  VariantResult,
} from './types.js';
export { CONDITION_OPERATORS } from './types.js';
export type { UnleashImport, UnleashImportIssue } from './unleash.js';
export { importUnleashFeatures } from './unleash.js';
export type { ValidateOptions, ValidationResult } from './validate.js';
export { defineFlag, isValidFlagName, KNOWN_STICKINESS, validateFlagDefinition } from './validate.js';
export type { FlagStore, FlagWriteOptions } from './writer.js';
export { deleteFlag, setFlag } from './writer.js';
