import { rolloutBucket, variantBucket } from './murmur.js';
import { compareSemver, parseSemver, type SemVer } from './semver.js';
import type {
  Condition,
  ContextValue,
  Evaluation,
  EvaluationReason,
  FlagContext,
  FlagDefinition,
  Variant,
  VariantResult,
} from './types.js';

type Test = (context: FlagContext, now: () => number) => boolean;

interface CompiledSplit {
  groupId: string;
  seed: (context: FlagContext) => string;
  variants: Variant[];
  totalWeight: number;
  overridden: Variant[];
}

interface CompiledRule {
  index: number;
  name: string | undefined;
  tests: Test[];
  serve: boolean;
  rollout: number;
  groupId: string;
  stick: (context: FlagContext) => string | undefined;
  variant: Variant | undefined;
  split: CompiledSplit | undefined;
}

/** A validated definition turned into closures, so evaluation does no parsing. */
export interface CompiledFlag {
  readonly name: string;
  readonly definition: FlagDefinition;
  readonly groupId: string;
  readonly stickiness: string;
  readonly rollout: number;
  readonly stick: (context: FlagContext) => string | undefined;
  readonly overrides: Map<string, boolean | Variant>;
  readonly rules: CompiledRule[];
  readonly variants: Variant[];
  readonly split: CompiledSplit;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}

/**
 * Turns a context value into the string a list, regex or bucket compares. Anything that is not a context value
 * counts as missing: a function or object read through the prototype (`ctx.constructor` when the context has
 * no `constructor` of its own) or passed by a JS caller must not become one shared string for everyone.
 */
function asString(v: ContextValue): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString();
  return undefined;
}

function asTime(v: ContextValue | FlagContext['currentTime']): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Date.parse(v);
  return Number.NaN;
}

function resolve(context: FlagContext, attribute: string, now: () => number): ContextValue {
  const v = context[attribute];
  if (attribute === 'currentTime' && (v === undefined || v === null)) return now();
  return v;
}

function compileCondition(c: Condition): Test {
  const { attribute, operator } = c;
  const ci = c.caseInsensitive === true;
  const fold = (s: string) => (ci ? s.toLowerCase() : s);
  let test: (v: ContextValue) => boolean;
  switch (operator) {
    case 'IN':
    case 'STR_EQ':
    case 'NOT_IN': {
      const set = new Set((c.values ?? []).map(fold));
      const wantIn = operator !== 'NOT_IN';
      test = (v) => {
        const s = asString(v);
        return s !== undefined && set.has(fold(s)) === wantIn;
      };
      break;
    }
    case 'STR_STARTS_WITH':
    case 'STR_ENDS_WITH':
    case 'STR_CONTAINS': {
      const values = (c.values ?? []).map(fold);
      const method =
        operator === 'STR_STARTS_WITH'
          ? 'startsWith'
          : operator === 'STR_ENDS_WITH'
            ? 'endsWith'
            : 'includes';
      test = (v) => {
        const s = asString(v);
        if (s === undefined) return false;
        const folded = fold(s);
        return values.some((x) => folded[method](x));
      };
      break;
    }
    case 'NUM_EQ':
    case 'NUM_GT':
    case 'NUM_GTE':
    case 'NUM_LT':
    case 'NUM_LTE': {
      const target = Number(c.value);
      test = (v) => {
        if (v === '') return false;
        const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
        if (Number.isNaN(n)) return false;
        if (operator === 'NUM_EQ') return n === target;
        if (operator === 'NUM_GT') return n > target;
        if (operator === 'NUM_GTE') return n >= target;
        if (operator === 'NUM_LT') return n < target;
        return n <= target;
      };
      break;
    }
    case 'DATE_AFTER':
    case 'DATE_BEFORE': {
      const target = new Date(c.value as string | number).getTime();
      test = (v) => {
        const t = asTime(v);
        if (Number.isNaN(t)) return false;
        return operator === 'DATE_AFTER' ? t > target : t < target;
      };
      break;
    }
    case 'SEMVER_EQ':
    case 'SEMVER_GT':
    case 'SEMVER_GTE':
    case 'SEMVER_LT':
    case 'SEMVER_LTE': {
      const target = parseSemver(String(c.value)) as SemVer;
      test = (v) => {
        if (typeof v !== 'string') return false;
        const parsed = parseSemver(v);
        if (!parsed) return false;
        const d = compareSemver(parsed, target);
        if (operator === 'SEMVER_EQ') return d === 0;
        if (operator === 'SEMVER_GT') return d > 0;
        if (operator === 'SEMVER_GTE') return d >= 0;
        if (operator === 'SEMVER_LT') return d < 0;
        return d <= 0;
      };
      break;
    }
    case 'REGEX': {
      const re = new RegExp(String(c.value), ci ? 'i' : '');
      test = (v) => {
        const s = asString(v);
        return s !== undefined && re.test(s);
      };
      break;
    }
  }
  const inverted = c.inverted === true;
  return (context, now) => test(resolve(context, attribute, now)) !== inverted;
}

/** Reads the value a rollout or a variant sticks on, or `undefined` when the context has none. */
type Stick = (context: FlagContext) => string | undefined;

/** Unleash's `random` stickiness for rollouts: a new value on every evaluation. */
const randomRolloutValue = () => `${Math.round(Math.random() * 10000) + 1}`;
/** Unleash's random seed for variants. */
const randomVariantValue = () => String(Math.round(Math.random() * 100000));

function fieldValue(context: FlagContext, field: string): string | undefined {
  const s = asString(context[field]);
  return s === '' ? undefined : s;
}

/**
 * The stickiness of a rollout, as Unleash's `flexibleRollout` resolves it: `default` is the userId, else
 * the sessionId, else a random value; `random` is always random; any other name is that context field.
 */
function rolloutStick(stickiness: string): Stick {
  if (stickiness === 'default') {
    return (c) => fieldValue(c, 'userId') ?? fieldValue(c, 'sessionId') ?? randomRolloutValue();
  }
  if (stickiness === 'random') return randomRolloutValue;
  return (c) => fieldValue(c, stickiness);
}

/**
 * The seed of a variant pick, as Unleash's variant selection resolves it: `default` is the first of userId,
 * sessionId and remoteAddress that is a non-empty string; without a value (or with `random`) the pick is
 * random.
 */
function variantStick(stickiness: string): (context: FlagContext) => string {
  if (stickiness === 'default') {
    return (c) => {
      for (const key of ['userId', 'sessionId', 'remoteAddress']) {
        const v = c[key];
        if (typeof v === 'string' && v !== '') return v;
      }
      return randomVariantValue();
    };
  }
  if (stickiness === 'random') return randomVariantValue;
  return (c) => fieldValue(c, stickiness) ?? randomVariantValue();
}

/**
 * Compiles a definition that already passed validation (regexes, sets, variant lookups built once).
 *
 * @example
 * ```ts
 * const flag = compileFlag('checkout', defineFlag('checkout', { enabled: true, rollout: 10 }));
 * ```
 */
export function compileFlag(name: string, definition: FlagDefinition): CompiledFlag {
  deepFreeze(definition);
  const variants = definition.variants ?? [];
  const byName = new Map(variants.map((v) => [v.name, v]));
  const overrides = new Map<string, boolean | Variant>();
  for (const [user, v] of Object.entries(definition.overrides ?? {})) {
    overrides.set(user, typeof v === 'string' ? (byName.get(v) as Variant) : v);
  }
  const groupId = definition.groupId ?? name;
  const stickiness = definition.stickiness ?? 'userId';
  return {
    name,
    definition,
    groupId,
    stickiness,
    rollout: definition.rollout ?? 100,
    stick: rolloutStick(stickiness),
    overrides,
    rules: (definition.rules ?? []).map((r, index) => {
      const ruleStickiness = r.stickiness ?? stickiness;
      const ruleGroup = r.groupId ?? groupId;
      return {
        index,
        name: r.name,
        tests: r.conditions.map(compileCondition),
        serve: r.serve ?? true,
        rollout: r.rollout ?? 100,
        groupId: ruleGroup,
        stick: rolloutStick(ruleStickiness),
        variant: r.variant === undefined ? undefined : byName.get(r.variant),
        split: r.variants === undefined ? undefined : compileSplit(ruleGroup, ruleStickiness, r.variants),
      };
    }),
    variants,
    split: compileSplit(name, stickiness, variants),
  };
}

function compileSplit(groupId: string, stickiness: string, variants: Variant[]): CompiledSplit {
  return {
    groupId,
    seed: variantStick(stickiness),
    variants,
    totalWeight: variants.reduce((sum, v) => sum + v.weight, 0),
    overridden: variants.filter((v) => v.overrides !== undefined && v.overrides.length > 0),
  };
}

function toResult(v: Variant): VariantResult {
  return v.payload === undefined
    ? { name: v.name, enabled: true }
    : { name: v.name, enabled: true, payload: v.payload };
}

/**
 * Picks a variant the way Unleash does: a variant whose `overrides` match the context first, else by weight
 * on the split's group (the flag name for the flag's variants, the rule's groupId for a rule's).
 */
function splitVariant(split: CompiledSplit, context: FlagContext): Variant | undefined {
  if (split.totalWeight <= 0) return undefined;
  for (const v of split.overridden) {
    for (const o of v.overrides!) {
      const value = asString(context[o.attribute]);
      if (value !== undefined && o.values.includes(value)) return v;
    }
  }
  const target = variantBucket(split.groupId, split.seed(context), split.totalWeight);
  let counter = 0;
  for (const v of split.variants) {
    if (v.weight === 0) continue;
    counter += v.weight;
    if (counter >= target) return v;
  }
  return undefined;
}

function inRollout(groupId: string, percentage: number, stick: Stick, context: FlagContext): boolean {
  if (percentage >= 100) return true;
  if (percentage <= 0) return false;
  const value = stick(context);
  return value !== undefined && rolloutBucket(groupId, value) <= percentage;
}

function on(
  flag: CompiledFlag,
  reason: EvaluationReason,
  forced: Variant | undefined,
  context: FlagContext,
  split: CompiledSplit = flag.split,
): Evaluation {
  const variant = forced ?? splitVariant(split, context);
  const result: Evaluation = { flag: flag.name, enabled: true, reason };
  if (variant) {
    result.variant = toResult(variant);
    if (!forced && reason === 'DEFAULT') result.reason = 'SPLIT';
  }
  return result;
}

function matches(rule: CompiledRule, context: FlagContext, now: () => number): boolean {
  for (const test of rule.tests) if (!test(context, now)) return false;
  return inRollout(rule.groupId, rule.rollout, rule.stick, context);
}

/**
 * Evaluates a compiled flag for a context: kill switch, then per-user overrides, then rules in order, then
 * the rollout. Pure and synchronous.
 *
 * @example
 * ```ts
 * evaluateFlag(flag, { userId: 'u1' }, Date.now); // { flag, enabled, reason, variant? }
 * ```
 */
export function evaluateFlag(flag: CompiledFlag, context: FlagContext, now: () => number): Evaluation {
  if (!flag.definition.enabled) return { flag: flag.name, enabled: false, reason: 'DISABLED' };
  if (flag.overrides.size > 0 && context.userId !== undefined) {
    const o = flag.overrides.get(context.userId);
    if (o === false) return { flag: flag.name, enabled: false, reason: 'TARGETING_MATCH' };
    if (o === true) return on(flag, 'TARGETING_MATCH', undefined, context);
    if (o !== undefined) return on(flag, 'TARGETING_MATCH', o, context);
  }
  for (const rule of flag.rules) {
    if (!matches(rule, context, now)) continue;
    const base = rule.serve
      ? on(flag, 'TARGETING_MATCH', rule.variant, context, rule.split)
      : ({ flag: flag.name, enabled: false, reason: 'TARGETING_MATCH' } as Evaluation);
    base.ruleIndex = rule.index;
    if (rule.name !== undefined) base.ruleName = rule.name;
    return base;
  }
  if (flag.rollout >= 100) return on(flag, 'DEFAULT', undefined, context);
  const stick = flag.stick(context);
  if (stick === undefined) return { flag: flag.name, enabled: false, reason: 'DEFAULT' };
  return flag.rollout > 0 && rolloutBucket(flag.groupId, stick) <= flag.rollout
    ? on(flag, 'SPLIT', undefined, context)
    : { flag: flag.name, enabled: false, reason: 'SPLIT' };
}

/**
 * Whether a compiled flag is on, without building the variant: the hot path of `isEnabled`.
 */
export function isFlagEnabled(flag: CompiledFlag, context: FlagContext, now: () => number): boolean {
  if (!flag.definition.enabled) return false;
  if (flag.overrides.size > 0 && context.userId !== undefined) {
    const o = flag.overrides.get(context.userId);
    if (o !== undefined) return o !== false;
  }
  for (const rule of flag.rules) {
    if (matches(rule, context, now)) return rule.serve;
  }
  return inRollout(flag.groupId, flag.rollout, flag.stick, context);
}
