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

interface CompiledRule {
  index: number;
  name: string | undefined;
  tests: Test[];
  serve: boolean;
  rollout: number;
  variant: Variant | undefined;
}

/** A validated definition turned into closures, so evaluation does no parsing. */
export interface CompiledFlag {
  readonly name: string;
  readonly definition: FlagDefinition;
  readonly groupId: string;
  readonly stickiness: string;
  readonly rollout: number;
  readonly overrides: Map<string, boolean | Variant>;
  readonly rules: CompiledRule[];
  readonly variants: Variant[];
  readonly totalWeight: number;
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
  return {
    name,
    definition,
    groupId: definition.groupId ?? name,
    stickiness: definition.stickiness ?? 'userId',
    rollout: definition.rollout ?? 100,
    overrides,
    rules: (definition.rules ?? []).map((r, index) => ({
      index,
      name: r.name,
      tests: r.conditions.map(compileCondition),
      serve: r.serve ?? true,
      rollout: r.rollout ?? 100,
      variant: r.variant === undefined ? undefined : byName.get(r.variant),
    })),
    variants,
    totalWeight: variants.reduce((sum, v) => sum + v.weight, 0),
  };
}

function stickinessValue(flag: CompiledFlag, context: FlagContext): string | undefined {
  const s = asString(context[flag.stickiness]);
  return s === '' ? undefined : s;
}

function toResult(v: Variant): VariantResult {
  return v.payload === undefined
    ? { name: v.name, enabled: true }
    : { name: v.name, enabled: true, payload: v.payload };
}

/** Picks a variant by weight, the way Unleash does; without a stickiness value the pick is random (as in Unleash). */
function splitVariant(flag: CompiledFlag, stick: string | undefined): Variant | undefined {
  if (flag.totalWeight <= 0) return undefined;
  const seed = stick ?? String(Math.round(Math.random() * 100000));
  const target = variantBucket(flag.groupId, seed, flag.totalWeight);
  let counter = 0;
  for (const v of flag.variants) {
    if (v.weight === 0) continue;
    counter += v.weight;
    if (counter >= target) return v;
  }
  return undefined;
}

function inRollout(flag: CompiledFlag, percentage: number, stick: string | undefined): boolean {
  if (percentage >= 100) return true;
  return stick !== undefined && percentage > 0 && rolloutBucket(flag.groupId, stick) <= percentage;
}

function on(
  flag: CompiledFlag,
  reason: EvaluationReason,
  forced: Variant | undefined,
  stick: string | undefined,
): Evaluation {
  const variant = forced ?? splitVariant(flag, stick);
  const result: Evaluation = { flag: flag.name, enabled: true, reason };
  if (variant) {
    result.variant = toResult(variant);
    if (!forced && reason === 'DEFAULT') result.reason = 'SPLIT';
  }
  return result;
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
  const stick = stickinessValue(flag, context);
  if (flag.overrides.size > 0 && context.userId !== undefined) {
    const o = flag.overrides.get(context.userId);
    if (o === false) return { flag: flag.name, enabled: false, reason: 'TARGETING_MATCH' };
    if (o === true) return on(flag, 'TARGETING_MATCH', undefined, stick);
    if (o !== undefined) return on(flag, 'TARGETING_MATCH', o, stick);
  }
  for (const rule of flag.rules) {
    let matched = true;
    for (const test of rule.tests) {
      if (!test(context, now)) {
        matched = false;
        break;
      }
    }
    if (!matched || !inRollout(flag, rule.rollout, stick)) continue;
    const base = rule.serve
      ? on(flag, 'TARGETING_MATCH', rule.variant, stick)
      : ({ flag: flag.name, enabled: false, reason: 'TARGETING_MATCH' } as Evaluation);
    base.ruleIndex = rule.index;
    if (rule.name !== undefined) base.ruleName = rule.name;
    return base;
  }
  if (flag.rollout >= 100) return on(flag, 'DEFAULT', undefined, stick);
  if (stick === undefined) return { flag: flag.name, enabled: false, reason: 'DEFAULT' };
  return inRollout(flag, flag.rollout, stick)
    ? on(flag, 'SPLIT', undefined, stick)
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
  const needsStick = flag.rollout < 100 || flag.rules.length > 0;
  const stick = needsStick ? stickinessValue(flag, context) : undefined;
  for (const rule of flag.rules) {
    let matched = true;
    for (const test of rule.tests) {
      if (!test(context, now)) {
        matched = false;
        break;
      }
    }
    if (matched && inRollout(flag, rule.rollout, stick)) return rule.serve;
  }
  return inRollout(flag, flag.rollout, stick);
}
