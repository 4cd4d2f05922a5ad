/** A JSON value: what a variant payload may hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** An attribute value in an evaluation context. Dates compare as instants, numbers numerically. */
export type ContextValue = string | number | boolean | Date | null | undefined;

/**
 * Who (or what) a flag is evaluated for. `userId` is the default stickiness and the key of per-user
 * overrides; any other field can be targeted by rules or used as stickiness.
 */
export interface FlagContext {
  /** The user. Default stickiness for rollouts and variants, and the key of `overrides`. */
  userId?: string;
  /** The session: what stickiness `default` falls back to when there is no `userId`. */
  sessionId?: string;
  /** The client's IP address: the last fallback of stickiness `default` for variants (as in Unleash). */
  remoteAddress?: string;
  /** The clock targeting's date operators compare `currentTime` against. Defaults to the instance's clock. */
  currentTime?: Date | string | number;
  [attribute: string]: ContextValue;
}

/** The operators a condition can use. Names follow Unleash's constraint operators, plus `STR_EQ`. */
export type ConditionOperator =
  | 'IN'
  | 'NOT_IN'
  | 'STR_EQ'
  | 'STR_STARTS_WITH'
  | 'STR_ENDS_WITH'
  | 'STR_CONTAINS'
  | 'NUM_EQ'
  | 'NUM_GT'
  | 'NUM_GTE'
  | 'NUM_LT'
  | 'NUM_LTE'
  | 'DATE_AFTER'
  | 'DATE_BEFORE'
  | 'SEMVER_EQ'
  | 'SEMVER_GT'
  | 'SEMVER_GTE'
  | 'SEMVER_LT'
  | 'SEMVER_LTE'
  | 'REGEX';

/** All condition operators, for validation and UIs. */
export const CONDITION_OPERATORS: readonly ConditionOperator[] = [
  'IN',
  'NOT_IN',
  'STR_EQ',
  'STR_STARTS_WITH',
  'STR_ENDS_WITH',
  'STR_CONTAINS',
  'NUM_EQ',
  'NUM_GT',
  'NUM_GTE',
  'NUM_LT',
  'NUM_LTE',
  'DATE_AFTER',
  'DATE_BEFORE',
  'SEMVER_EQ',
  'SEMVER_GT',
  'SEMVER_GTE',
  'SEMVER_LT',
  'SEMVER_LTE',
  'REGEX',
];

/**
 * One test on a context attribute. `IN`/`NOT_IN` and the `STR_*` operators take `values` (any one may
 * match); the others take one `value`. A missing attribute never matches (`NOT_IN` included), unless
 * `inverted` flips the result.
 */
export interface Condition {
  /** The context field tested, e.g. `country`, `plan`, `appVersion`, `currentTime`. */
  attribute: string;
  /** How it is tested. */
  operator: ConditionOperator;
  /** The candidates of `IN`, `NOT_IN`, `STR_EQ`, `STR_STARTS_WITH`, `STR_ENDS_WITH`, `STR_CONTAINS`. */
  values?: string[];
  /** The operand of the numeric, date (ISO 8601), semver and regex operators. */
  value?: string | number;
  /** Negates the result. @default false */
  inverted?: boolean;
  /** Compares strings (and regexes) ignoring case. @default false */
  caseInsensitive?: boolean;
}

/** A targeting rule: when every condition holds (and the user is inside its rollout), it decides the flag. */
export interface TargetingRule {
  /** A label reported in evaluations (`ruleName`). */
  name?: string;
  /** All must hold. An empty list always holds. */
  conditions: Condition[];
  /** What the rule serves: `true` turns the flag on, `false` off for the matched users. @default true */
  serve?: boolean;
  /** Percentage (0-100) of the matched users the rule applies to, bucketed like the flag's rollout. @default 100 */
  rollout?: number;
  /** Forces this variant (by name) for matched users instead of the weighted split. */
  variant?: string;
  /** The context field this rule's rollout (and `variants`) sticks on (see the flag's `stickiness`). @default the flag's stickiness */
  stickiness?: string;
  /** The bucketing group of this rule's rollout and `variants` (Unleash's strategy `groupId`). @default the flag's groupId */
  groupId?: string;
  /**
   * Variants of this rule (Unleash's strategy variants): a user the rule turns on gets one of these, bucketed
   * on the rule's `groupId`, instead of one of the flag's. Not with `variant`.
   */
  variants?: Variant[];
}

/** A variant override (Unleash's): a context whose `attribute` equals one of `values` gets the variant. */
export interface VariantOverride {
  /** The context field compared, e.g. `userId` or `tenantId`. */
  attribute: string;
  /** The values that select the variant. */
  values: string[];
}

/** A variant: a named value chosen by weight, sticky per user. */
export interface Variant {
  /** Unique within the flag. */
  name: string;
  /** Relative weight, a non-negative integer (Unleash uses a total of 1000). */
  weight: number;
  /** Any JSON value handed to the caller with the variant. */
  payload?: JsonValue;
  /**
   * Contexts that get this variant whenever the flag (or rule) serves a variant, before the weighted split,
   * as Unleash's variant overrides. They pick the variant only: unlike the flag's `overrides`, they never
   * turn the flag on.
   */
  overrides?: VariantOverride[];
}

/**
 * A flag as stored under `flags.<name>`. Evaluation order: `enabled` (kill switch) -> `overrides` ->
 * `rules` in order -> `rollout`. Only `enabled` is required.
 */
export interface FlagDefinition {
  /** The kill switch: `false` turns the flag off for everyone, overrides included. */
  enabled: boolean;
  /** What the flag is for. */
  description?: string;
  /** Per-user decisions keyed by `userId`: `true`/`false`, or a variant name (which implies on). */
  overrides?: Record<string, boolean | string>;
  /** Targeting rules, evaluated in order; the first that matches decides. */
  rules?: TargetingRule[];
  /** Percentage (0-100) of everyone else who gets the flag. @default 100 */
  rollout?: number;
  /**
   * The context field that keeps a user in the same bucket, for the rollout and the variants: `default`
   * (Unleash's: `userId`, else `sessionId`, else random; variants also try `remoteAddress`), `random`, a
   * known field (`userId`, `sessionId`, `remoteAddress`, `environment`, `appName`) or a custom field
   * declared to the validator (`contextFields`).
   * @default 'userId'
   */
  stickiness?: string;
  /**
   * The bucketing group of the rollout (and of rules that have none): Unleash's `flexibleRollout` `groupId`.
   * The flag's `variants` always bucket on the flag name, as Unleash's feature variants do.
   * @default the flag name
   */
  groupId?: string;
  /** Weighted variants, chosen when the flag is on. */
  variants?: Variant[];
}

/** Why an evaluation came out as it did (OpenFeature's reasons). */
export type EvaluationReason = 'DISABLED' | 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT' | 'ERROR';

/** What went wrong when the reason is `ERROR` (OpenFeature's error codes). */
export type EvaluationErrorCode = 'FLAG_NOT_FOUND' | 'PARSE_ERROR' | 'PROVIDER_NOT_READY';

/** The variant a user gets. `name` is `'disabled'` (and `enabled` false) when the flag is off or has none. */
export interface VariantResult {
  name: string;
  enabled: boolean;
  payload?: JsonValue;
}

/** The full answer for one flag and one context. */
export interface Evaluation {
  /** The flag evaluated. */
  flag: string;
  /** Whether the flag is on. */
  enabled: boolean;
  /** The variant, when the flag is on and has variants (or an override or rule names one). */
  variant?: VariantResult;
  /** Why. */
  reason: EvaluationReason;
  /** Set when `reason` is `ERROR`. */
  errorCode?: EvaluationErrorCode;
  /** A human-readable explanation of an error. */
  errorMessage?: string;
  /** The index of the rule that decided, when `reason` is `TARGETING_MATCH` through a rule. */
  ruleIndex?: number;
  /** The `name` of that rule. */
  ruleName?: string;
}
