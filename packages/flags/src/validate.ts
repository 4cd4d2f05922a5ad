import { FlagsError, FlagsErrorCode } from './errors.js';
import { parseSemver } from './semver.js';
import {
  CONDITION_OPERATORS,
  type Condition,
  type ConditionOperator,
  type FlagDefinition,
  type JsonValue,
  type TargetingRule,
  type Variant,
  type VariantOverride,
} from './types.js';

const FLAG_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** The operators whose `values` is a list of strings: IN, NOT_IN and the STR_ ones. */
const LIST_OPERATORS = new Set<ConditionOperator>(
  CONDITION_OPERATORS.filter((op) => op === 'IN' || op === 'NOT_IN' || op.startsWith('STR_')),
);
const MAX_REGEX_LENGTH = 512;
const MAX_PAYLOAD_DEPTH = 32;

/** The stickiness values every definition may use: Unleash's `default` and `random`, and the known context fields. */
export const KNOWN_STICKINESS: readonly string[] = [
  'default',
  'random',
  'userId',
  'sessionId',
  'remoteAddress',
  'environment',
  'appName',
];

/** Options of {@link validateFlagDefinition} and {@link defineFlag}. */
export interface ValidateOptions {
  /**
   * The custom context fields a `stickiness` may name besides {@link KNOWN_STICKINESS} (e.g. `['accountId']`).
   * A stickiness that is neither is refused, so a typo (or Unleash's `default` read as a field) cannot turn
   * a rollout off for everyone.
   * @default []
   */
  contextFields?: readonly string[];
}

/** Internal: accept any stickiness (a loading instance does not know which fields the writer declared). */
export const ANY_STICKINESS: ValidateOptions = Object.freeze({ contextFields: ['*'] });

/** The result of {@link validateFlagDefinition}. */
export type ValidationResult = { ok: true; value: FlagDefinition } | { ok: false; issues: string[] };

/**
 * Tells whether `name` can name a flag: 1-128 characters from `[A-Za-z0-9._:-]`, starting with a letter or
 * digit (names starting with `_` are reserved for the index key).
 *
 * @example
 * ```ts
 * isValidFlagName('new-checkout'); // true
 * isValidFlagName('_index');       // false
 * ```
 */
export function isValidFlagName(name: unknown): name is string {
  return typeof name === 'string' && FLAG_NAME.test(name);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isPercentage = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 100;

/** Sets an own, enumerable property, even one named `__proto__` (plain assignment would set the prototype). */
function define<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function unknownKeys(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  issues: string[],
) {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) issues.push(`${path}${key}: unknown field`);
  }
}

function checkJson(value: unknown, path: string, issues: string[], depth = 0): JsonValue | undefined {
  if (depth > MAX_PAYLOAD_DEPTH) {
    issues.push(`${path}: nested deeper than ${MAX_PAYLOAD_DEPTH} levels`);
    return undefined;
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    issues.push(`${path}: numbers must be finite`);
    return undefined;
  }
  if (Array.isArray(value))
    return value.map((v, i) => checkJson(v, `${path}[${i}]`, issues, depth + 1) ?? null);
  if (
    isRecord(value) &&
    (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)
  ) {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) {
      const copy = checkJson(v, `${path}.${k}`, issues, depth + 1);
      if (copy !== undefined) define(out, k, copy);
    }
    return out;
  }
  issues.push(`${path}: must be JSON (string, finite number, boolean, null, array or plain object)`);
  return undefined;
}

function checkStickiness(
  value: unknown,
  path: string,
  options: ValidateOptions,
  issues: string[],
): string | undefined {
  if (typeof value !== 'string' || value === '') {
    issues.push(`${path}: must be a non-empty string`);
    return undefined;
  }
  const custom = options.contextFields ?? [];
  if (KNOWN_STICKINESS.includes(value) || custom.includes(value) || custom.includes('*')) return value;
  issues.push(
    `${path}: "${value}" is neither default, random, a known context field (${KNOWN_STICKINESS.slice(2).join(', ')}) nor a declared custom field (contextFields)`,
  );
  return undefined;
}

function checkCondition(input: unknown, path: string, issues: string[]): Condition | undefined {
  if (!isRecord(input)) {
    issues.push(`${path}: must be an object`);
    return undefined;
  }
  unknownKeys(
    input,
    ['attribute', 'operator', 'values', 'value', 'inverted', 'caseInsensitive'],
    `${path}.`,
    issues,
  );
  const { attribute, operator, values, value, inverted, caseInsensitive } = input;
  const before = issues.length;
  if (typeof attribute !== 'string' || attribute === '')
    issues.push(`${path}.attribute: must be a non-empty string`);
  if (inverted !== undefined && typeof inverted !== 'boolean')
    issues.push(`${path}.inverted: must be a boolean`);
  if (caseInsensitive !== undefined && typeof caseInsensitive !== 'boolean') {
    issues.push(`${path}.caseInsensitive: must be a boolean`);
  }
  if (typeof operator !== 'string' || !CONDITION_OPERATORS.includes(operator as ConditionOperator)) {
    issues.push(`${path}.operator: must be one of ${CONDITION_OPERATORS.join(', ')}`);
    return undefined;
  }
  const op = operator as ConditionOperator;
  if (LIST_OPERATORS.has(op)) {
    if (value !== undefined) issues.push(`${path}.value: ${op} takes \`values\`, not \`value\``);
    if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== 'string')) {
      issues.push(`${path}.values: ${op} needs a non-empty array of strings`);
    }
  } else {
    if (values !== undefined) issues.push(`${path}.values: ${op} takes one \`value\`, not \`values\``);
    if (op.startsWith('NUM_')) {
      if (!(typeof value === 'number' && Number.isFinite(value))) {
        issues.push(`${path}.value: ${op} needs a finite number`);
      }
    } else if (op.startsWith('DATE_')) {
      if (
        !(
          (typeof value === 'string' || typeof value === 'number') &&
          !Number.isNaN(new Date(value).getTime())
        )
      ) {
        issues.push(`${path}.value: ${op} needs an ISO 8601 date or epoch milliseconds`);
      }
    } else if (op.startsWith('SEMVER_')) {
      if (typeof value !== 'string' || !parseSemver(value)) {
        issues.push(`${path}.value: ${op} needs a semantic version such as 1.2.3 or 2.0.0-beta.1`);
      }
    } else if (op === 'REGEX') {
      if (typeof value !== 'string' || value.length > MAX_REGEX_LENGTH) {
        issues.push(`${path}.value: REGEX needs a pattern string of at most ${MAX_REGEX_LENGTH} characters`);
      } else {
        try {
          new RegExp(value, caseInsensitive ? 'i' : '');
        } catch (error) {
          issues.push(`${path}.value: invalid regular expression (${(error as Error).message})`);
        }
      }
    }
  }
  if (issues.length > before) return undefined;
  const out: Condition = { attribute: attribute as string, operator: op };
  if (Array.isArray(values)) out.values = [...(values as string[])];
  if (value !== undefined) out.value = value as string | number;
  if (inverted) out.inverted = true;
  if (caseInsensitive) out.caseInsensitive = true;
  return out;
}

function checkVariantOverrides(
  input: unknown,
  path: string,
  issues: string[],
): VariantOverride[] | undefined {
  if (!Array.isArray(input)) {
    issues.push(`${path}: must be an array of { attribute, values }`);
    return undefined;
  }
  const out: VariantOverride[] = [];
  input.forEach((o, i) => {
    const at = `${path}[${i}]`;
    if (!isRecord(o)) {
      issues.push(`${at}: must be an object`);
      return;
    }
    unknownKeys(o, ['attribute', 'values'], `${at}.`, issues);
    if (typeof o.attribute !== 'string' || o.attribute === '') {
      issues.push(`${at}.attribute: must be a non-empty string`);
    } else if (!Array.isArray(o.values) || o.values.some((v) => typeof v !== 'string')) {
      issues.push(`${at}.values: must be an array of strings`);
    } else out.push({ attribute: o.attribute, values: [...(o.values as string[])] });
  });
  return out.length > 0 ? out : undefined;
}

function checkVariants(input: unknown, issues: string[], path = 'variants'): Variant[] | undefined {
  if (input === undefined) return undefined;
  if (!Array.isArray(input)) {
    issues.push(`${path}: must be an array`);
    return undefined;
  }
  const names = new Set<string>();
  const out: Variant[] = [];
  let total = 0;
  let badWeights = false;
  input.forEach((v, i) => {
    const at = `${path}[${i}]`;
    if (!isRecord(v)) {
      issues.push(`${at}: must be an object`);
      return;
    }
    unknownKeys(v, ['name', 'weight', 'payload', 'overrides'], `${at}.`, issues);
    if (typeof v.name !== 'string' || v.name === '') issues.push(`${at}.name: must be a non-empty string`);
    else if (v.name === 'disabled') issues.push(`${at}.name: "disabled" is reserved for "no variant"`);
    else if (names.has(v.name)) issues.push(`${at}.name: duplicate variant "${v.name}"`);
    else names.add(v.name);
    if (!Number.isInteger(v.weight) || (v.weight as number) < 0) {
      issues.push(`${at}.weight: must be a non-negative integer`);
      badWeights = true;
    } else total += v.weight as number;
    const variant: Variant = { name: v.name as string, weight: v.weight as number };
    if ('payload' in v && v.payload !== undefined) {
      const payload = checkJson(v.payload, `${at}.payload`, issues);
      if (payload !== undefined) variant.payload = payload;
    }
    if (v.overrides !== undefined) {
      const overrides = checkVariantOverrides(v.overrides, `${at}.overrides`, issues);
      if (overrides) variant.overrides = overrides;
    }
    out.push(variant);
  });
  if (out.length > 0 && !badWeights && total <= 0)
    issues.push(`${path}: the weights must add up to more than 0`);
  return out;
}

function checkRule(
  input: unknown,
  path: string,
  variantNames: Set<string>,
  options: ValidateOptions,
  issues: string[],
): TargetingRule | undefined {
  if (!isRecord(input)) {
    issues.push(`${path}: must be an object`);
    return undefined;
  }
  unknownKeys(
    input,
    ['name', 'conditions', 'serve', 'rollout', 'variant', 'stickiness', 'groupId', 'variants'],
    `${path}.`,
    issues,
  );
  const rule: TargetingRule = { conditions: [] };
  if (input.name !== undefined) {
    if (typeof input.name === 'string') rule.name = input.name;
    else issues.push(`${path}.name: must be a string`);
  }
  if (!Array.isArray(input.conditions)) issues.push(`${path}.conditions: must be an array`);
  else {
    input.conditions.forEach((c, i) => {
      const cond = checkCondition(c, `${path}.conditions[${i}]`, issues);
      if (cond) rule.conditions.push(cond);
    });
  }
  if (input.serve !== undefined) {
    if (typeof input.serve === 'boolean') rule.serve = input.serve;
    else issues.push(`${path}.serve: must be a boolean`);
  }
  if (input.rollout !== undefined) {
    if (isPercentage(input.rollout)) rule.rollout = input.rollout;
    else issues.push(`${path}.rollout: must be an integer from 0 to 100`);
  }
  if (input.variant !== undefined) {
    if (typeof input.variant !== 'string' || !variantNames.has(input.variant)) {
      issues.push(`${path}.variant: must name one of the flag's variants`);
    } else if (rule.serve === false)
      issues.push(`${path}.variant: a rule serving false cannot pick a variant`);
    else rule.variant = input.variant;
  }
  if (input.stickiness !== undefined) {
    const stickiness = checkStickiness(input.stickiness, `${path}.stickiness`, options, issues);
    if (stickiness) rule.stickiness = stickiness;
  }
  if (input.groupId !== undefined) {
    if (typeof input.groupId === 'string' && input.groupId !== '') rule.groupId = input.groupId;
    else issues.push(`${path}.groupId: must be a non-empty string`);
  }
  if (input.variants !== undefined) {
    const variants = checkVariants(input.variants, issues, `${path}.variants`);
    if (input.variant !== undefined)
      issues.push(`${path}.variants: a rule has \`variant\` or \`variants\`, not both`);
    else if (rule.serve === false)
      issues.push(`${path}.variants: a rule serving false cannot pick a variant`);
    else if (variants && variants.length > 0) rule.variants = variants;
  }
  return rule;
}

/**
 * Checks a flag definition without throwing. On success `value` is a clean copy holding only the known
 * fields (later changes to the input don't leak into it); on failure `issues` lists every problem.
 *
 * @example
 * ```ts
 * const r = validateFlagDefinition({ enabled: true, rollout: 150 });
 * if (!r.ok) console.log(r.issues); // ['rollout: must be an integer from 0 to 100']
 * ```
 */
export function validateFlagDefinition(input: unknown, options: ValidateOptions = {}): ValidationResult {
  const issues: string[] = [];
  if (!isRecord(input)) return { ok: false, issues: ['definition: must be an object'] };
  unknownKeys(
    input,
    ['enabled', 'description', 'overrides', 'rules', 'rollout', 'stickiness', 'groupId', 'variants'],
    '',
    issues,
  );
  const def: FlagDefinition = { enabled: input.enabled as boolean };
  if (typeof input.enabled !== 'boolean') issues.push('enabled: required, must be a boolean');
  if (input.description !== undefined) {
    if (typeof input.description === 'string') def.description = input.description;
    else issues.push('description: must be a string');
  }
  const variants = checkVariants(input.variants, issues);
  if (variants && variants.length > 0) def.variants = variants;
  const variantNames = new Set((variants ?? []).map((v) => v.name));
  if (input.overrides !== undefined) {
    if (!isRecord(input.overrides))
      issues.push('overrides: must be an object mapping userId to a boolean or a variant');
    else {
      const overrides: Record<string, boolean | string> = {};
      for (const [user, v] of Object.entries(input.overrides)) {
        if (typeof v === 'boolean' || (typeof v === 'string' && variantNames.has(v)))
          define(overrides, user, v);
        else issues.push(`overrides.${user}: must be true, false or the name of one of the flag's variants`);
      }
      def.overrides = overrides;
    }
  }
  if (input.rules !== undefined) {
    if (!Array.isArray(input.rules)) issues.push('rules: must be an array');
    else {
      def.rules = [];
      input.rules.forEach((r, i) => {
        const rule = checkRule(r, `rules[${i}]`, variantNames, options, issues);
        if (rule) def.rules!.push(rule);
      });
    }
  }
  if (input.rollout !== undefined) {
    if (isPercentage(input.rollout)) def.rollout = input.rollout;
    else issues.push('rollout: must be an integer from 0 to 100');
  }
  if (input.stickiness !== undefined) {
    const stickiness = checkStickiness(input.stickiness, 'stickiness', options, issues);
    if (stickiness) def.stickiness = stickiness;
  }
  if (input.groupId !== undefined) {
    if (typeof input.groupId === 'string' && input.groupId !== '') def.groupId = input.groupId;
    else issues.push('groupId: must be a non-empty string');
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: def };
}

/**
 * Validates a definition and returns its clean copy, or throws a {@link FlagsError} (`INVALID_DEFINITION`,
 * or `INVALID_FLAG_NAME`) listing every issue. Pure: no I/O. Use it to declare flags in code.
 *
 * @example
 * ```ts
 * const checkout = defineFlag('new-checkout', {
 *   enabled: true,
 *   rollout: 10,
 *   rules: [{ name: 'staff', conditions: [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@acme.com'] }] }],
 * });
 * ```
 */
export function defineFlag(
  name: string,
  definition: FlagDefinition,
  options: ValidateOptions = {},
): FlagDefinition {
  if (!isValidFlagName(name)) {
    throw new FlagsError(
      FlagsErrorCode.INVALID_FLAG_NAME,
      `invalid flag name ${JSON.stringify(name)}: use 1-128 characters from [A-Za-z0-9._:-], starting with a letter or digit`,
    );
  }
  const { contextFields } = options;
  if (
    contextFields !== undefined &&
    (!Array.isArray(contextFields) || contextFields.some((f) => typeof f !== 'string' || f === ''))
  ) {
    throw new FlagsError(FlagsErrorCode.INVALID_OPTIONS, 'contextFields must be an array of field names');
  }
  const result = validateFlagDefinition(definition, options);
  if (!result.ok) {
    throw new FlagsError(
      FlagsErrorCode.INVALID_DEFINITION,
      `invalid definition for flag "${name}": ${result.issues.join('; ')}`,
      { issues: result.issues },
    );
  }
  return result.value;
}
