import { FlagsError, FlagsErrorCode } from './errors.js';
import { parseSemver } from './semver.js';
import type {
  Condition,
  FlagDefinition,
  JsonValue,
  TargetingRule,
  Variant,
  VariantOverride,
} from './types.js';
import { defineFlag, isValidFlagName, KNOWN_STICKINESS } from './validate.js';

/** What became of one part of an Unleash feature that could not be carried over as it was. */
export interface UnleashImportIssue {
  /** The Unleash feature (flag) name. */
  feature: string;
  /** Where in the feature, e.g. `strategies[1].constraints[0]`; empty for the feature itself. */
  path: string;
  /**
   * `skipped`: the whole feature was not imported. `dropped`: this part was left out and the flag imported
   * without it (read the message: it may now be on or off for users Unleash decided otherwise).
   * `changed`: carried over with a difference the message describes.
   */
  outcome: 'skipped' | 'dropped' | 'changed';
  /** What happened and why. */
  message: string;
}

/** What {@link importUnleashFeatures} returns. */
export interface UnleashImport {
  /** The validated definitions, keyed by flag name: write each with `setFlag`. */
  flags: Record<string, FlagDefinition>;
  /** Everything that could not be carried over as it was; empty when the import is exact. */
  report: UnleashImportIssue[];
  /** The custom context fields the definitions stick on: pass them as `contextFields` to `setFlag`. */
  contextFields: string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const LIST_OPS = new Set(['IN', 'NOT_IN', 'STR_STARTS_WITH', 'STR_ENDS_WITH', 'STR_CONTAINS']);
const NUM_OPS = new Set(['NUM_EQ', 'NUM_GT', 'NUM_GTE', 'NUM_LT', 'NUM_LTE']);
const SEMVER_OPS = new Set(['SEMVER_EQ', 'SEMVER_GT', 'SEMVER_GTE', 'SEMVER_LT', 'SEMVER_LTE']);
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** A constraint translated: a condition, or a constant (Unleash evaluates it the same for everyone). */
type Translated = { condition: Condition } | { always: boolean } | { unsupported: string };

/** Unleash drops empty values and trims the rest before comparing. */
const cleanValues = (values: unknown): string[] =>
  Array.isArray(values)
    ? values.filter((v): v is string => typeof v === 'string' && v !== '').map((v) => v.trim())
    : [];

function translateConstraint(c: Json): Translated {
  const operator = String(c.operator);
  const attribute = typeof c.contextName === 'string' ? c.contextName : '';
  const inverted = c.inverted === true;
  const constant = (value: boolean): Translated => ({ always: value !== inverted });
  if (attribute === '' && !operator.startsWith('DATE_'))
    return { unsupported: 'constraint without contextName' };
  if (LIST_OPS.has(operator)) {
    const values = cleanValues(c.values);
    if (operator === 'IN' || operator === 'NOT_IN') {
      // Unleash's NOT_IN holds for a missing attribute; our inverted IN does too, our NOT_IN does not.
      const negate = operator === 'NOT_IN' ? !inverted : inverted;
      if (values.length === 0) return { always: negate };
      return { condition: { attribute, operator: 'IN', values, ...(negate ? { inverted: true } : {}) } };
    }
    if (values.length === 0) return constant(false);
    const condition: Condition = { attribute, operator: operator as Condition['operator'], values };
    if (c.caseInsensitive === true) condition.caseInsensitive = true;
    if (inverted) condition.inverted = true;
    return { condition };
  }
  const value = c.value;
  let condition: Condition | undefined;
  if (NUM_OPS.has(operator)) {
    const n = Number(value);
    if (value === undefined || value === null || Number.isNaN(n)) return constant(false);
    condition = { attribute, operator: operator as Condition['operator'], value: n };
  } else if (operator === 'DATE_AFTER' || operator === 'DATE_BEFORE') {
    // Unleash compares the context's currentTime, whatever the contextName says.
    if (typeof value !== 'string' || Number.isNaN(new Date(value).getTime())) return constant(false);
    condition = { attribute: 'currentTime', operator, value };
  } else if (SEMVER_OPS.has(operator)) {
    if (typeof value !== 'string' || !parseSemver(value)) return constant(false);
    condition = { attribute, operator: operator as Condition['operator'], value };
  } else if (operator === 'REGEX') {
    if (typeof value !== 'string') return constant(false);
    try {
      new RegExp(value, c.caseInsensitive === true ? 'i' : '');
    } catch {
      return { unsupported: `REGEX ${JSON.stringify(value)} is not a JavaScript regular expression` };
    }
    condition = { attribute, operator: 'REGEX', value };
    if (c.caseInsensitive === true) condition.caseInsensitive = true;
  } else {
    return { unsupported: `operator ${operator} is not supported` };
  }
  if (inverted) condition.inverted = true;
  return { condition };
}

function translateVariants(
  input: unknown,
  path: string,
  issue: (path: string, outcome: UnleashImportIssue['outcome'], message: string) => void,
): { variants: Variant[]; stickiness: string | undefined } {
  const variants: Variant[] = [];
  let stickiness: string | undefined;
  if (!Array.isArray(input)) return { variants, stickiness };
  input.forEach((v, i) => {
    if (!isObject(v) || typeof v.name !== 'string' || v.name === '') {
      issue(`${path}[${i}]`, 'dropped', 'a variant without a name');
      return;
    }
    if (v.name === 'disabled') {
      issue(`${path}[${i}]`, 'dropped', 'a variant named "disabled" (reserved for "no variant")');
      return;
    }
    if (i === 0 && typeof v.stickiness === 'string' && v.stickiness !== '') stickiness = v.stickiness;
    const weight = Number(v.weight);
    const variant: Variant = { name: v.name, weight: Number.isInteger(weight) && weight > 0 ? weight : 0 };
    if (v.payload !== undefined && v.payload !== null) variant.payload = v.payload as JsonValue;
    const overrides: VariantOverride[] = [];
    if (Array.isArray(v.overrides)) {
      for (const o of v.overrides) {
        if (isObject(o) && typeof o.contextName === 'string' && Array.isArray(o.values)) {
          overrides.push({
            attribute: o.contextName,
            values: o.values.filter((x): x is string => typeof x === 'string'),
          });
        }
      }
    }
    if (overrides.length > 0) variant.overrides = overrides;
    variants.push(variant);
  });
  if (variants.reduce((sum, v) => sum + v.weight, 0) <= 0) return { variants: [], stickiness };
  return { variants, stickiness };
}

interface FeatureContext {
  name: string;
  segments: Map<unknown, Json>;
  issue: (path: string, outcome: UnleashImportIssue['outcome'], message: string) => void;
  stickiness: Set<string>;
}

/** One Unleash strategy as a rule, or `undefined` when it is left out (with its report line). */
function translateStrategy(s: Json, path: string, f: FeatureContext): TargetingRule | undefined {
  const params = isObject(s.parameters) ? s.parameters : {};
  const strategy = String(s.name);
  const drop = (why: string) => {
    f.issue(path, 'dropped', `strategy "${strategy}" left out: ${why}`);
    return undefined;
  };
  if (s.disabled === true) return drop('it is disabled');
  const rule: TargetingRule = {
    name: typeof s.title === 'string' && s.title !== '' ? s.title : strategy,
    conditions: [],
  };
  const groupOr = (fallback: string) => {
    const g = params.groupId;
    if (typeof g === 'string' && g !== '') return g;
    f.issue(
      path,
      'changed',
      `no groupId: buckets on the flag name "${fallback}" (unleash-client for Node uses "")`,
    );
    return fallback;
  };
  const percentage = (raw: unknown) => Math.min(100, Math.max(0, Math.floor(Number(raw) || 0)));
  switch (strategy) {
    case 'default':
      break;
    case 'flexibleRollout': {
      rule.rollout = percentage(params.rollout);
      rule.stickiness =
        typeof params.stickiness === 'string' && params.stickiness !== '' ? params.stickiness : 'default';
      rule.groupId = groupOr(f.name);
      break;
    }
    case 'gradualRolloutUserId':
    case 'gradualRolloutSessionId':
    case 'gradualRolloutRandom':
      rule.rollout = percentage(params.percentage);
      rule.stickiness =
        strategy === 'gradualRolloutUserId'
          ? 'userId'
          : strategy === 'gradualRolloutSessionId'
            ? 'sessionId'
            : 'random';
      if (strategy !== 'gradualRolloutRandom') rule.groupId = groupOr(f.name);
      break;
    case 'userWithId': {
      const ids =
        typeof params.userIds === 'string' ? params.userIds.split(/\s*,\s*/).filter((x) => x !== '') : [];
      if (ids.length === 0) return drop('no user ids (it matches nobody)');
      rule.conditions.push({ attribute: 'userId', operator: 'IN', values: ids });
      break;
    }
    case 'remoteAddress': {
      const entries =
        typeof params.IPs === 'string' ? params.IPs.split(/\s*,\s*/).filter((x) => x !== '') : [];
      const exact = entries.filter((e) => IPV4.test(e) || (e.includes(':') && !e.includes('/')));
      const ranges = entries.filter((e) => !exact.includes(e));
      if (ranges.length > 0) {
        f.issue(
          path,
          'dropped',
          `address ranges ${ranges.join(', ')} left out (no CIDR matching): only exact addresses are kept`,
        );
      }
      if (exact.length === 0) return drop('no exact address left');
      rule.conditions.push({ attribute: 'remoteAddress', operator: 'IN', values: exact });
      break;
    }
    default:
      return drop(
        'this strategy is not supported (only default, flexibleRollout, userWithId, remoteAddress and the gradualRollout* ones)',
      );
  }
  const constraints: { c: unknown; at: string }[] = [];
  if (Array.isArray(s.constraints))
    s.constraints.forEach((c, i) => {
      constraints.push({ c, at: `${path}.constraints[${i}]` });
    });
  if (Array.isArray(s.segments)) {
    for (const id of s.segments) {
      const segment = f.segments.get(id);
      if (!segment) return drop(`segment ${String(id)} is not in the export (Unleash then never matches)`);
      f.issue(
        path,
        'changed',
        `segment ${String(id)}${typeof segment.name === 'string' ? ` "${segment.name}"` : ''} copied in as conditions: later edits of the segment will not reach this flag`,
      );
      const list = Array.isArray(segment.constraints) ? segment.constraints : [];
      list.forEach((c, i) => {
        constraints.push({ c, at: `segments[${String(id)}].constraints[${i}]` });
      });
    }
  }
  for (const { c, at } of constraints) {
    if (!isObject(c)) return drop(`${at} is not a constraint`);
    const t = translateConstraint(c);
    if ('unsupported' in t) return drop(`${at}: ${t.unsupported}`);
    if ('always' in t) {
      if (!t.always) return drop(`${at} can never hold (Unleash never matches it either)`);
      continue;
    }
    rule.conditions.push(t.condition);
  }
  const { variants, stickiness } = translateVariants(s.variants, `${path}.variants`, f.issue);
  if (variants.length > 0) {
    rule.variants = variants;
    const ruleStickiness = rule.stickiness ?? 'default';
    const wanted = stickiness ?? ruleStickiness;
    if (wanted !== ruleStickiness) {
      if (rule.rollout === undefined || rule.rollout >= 100) rule.stickiness = wanted;
      else
        f.issue(
          path,
          'changed',
          `variants stick on "${wanted}" but the rollout on "${ruleStickiness}": both use "${ruleStickiness}"`,
        );
    }
    rule.stickiness ??= 'default';
    if (rule.groupId === undefined) rule.groupId = groupOr(f.name);
  }
  if (rule.stickiness !== undefined) f.stickiness.add(rule.stickiness);
  return rule;
}

function translateFeature(feature: Json, f: FeatureContext): FlagDefinition {
  const def: FlagDefinition = { enabled: feature.enabled === true };
  if (typeof feature.description === 'string' && feature.description !== '')
    def.description = feature.description;
  if (feature.impressionData === true)
    f.issue('impressionData', 'dropped', 'impression data: no impression events are emitted');
  if (Array.isArray(feature.dependencies) && feature.dependencies.length > 0) {
    const parents = feature.dependencies.map((d) => (isObject(d) ? String(d.feature) : '?')).join(', ');
    f.issue(
      'dependencies',
      'dropped',
      `depends on ${parents}: dependencies are not supported, the flag no longer waits for its parents`,
    );
  }
  const strategies = Array.isArray(feature.strategies) ? feature.strategies : [];
  const rules: TargetingRule[] = [];
  strategies.forEach((s, i) => {
    const rule = isObject(s) ? translateStrategy(s, `strategies[${i}]`, f) : undefined;
    if (rule) rules.push(rule);
  });
  // With strategies, Unleash turns the flag on only through one of them; with none, for everyone.
  if (strategies.length > 0) def.rollout = 0;
  if (rules.length > 0) def.rules = rules;
  const { variants, stickiness } = translateVariants(feature.variants, 'variants', f.issue);
  if (variants.length > 0) {
    def.variants = variants;
    def.stickiness = stickiness ?? 'default';
  } else if (strategies.length > 0) def.stickiness = 'default';
  if (def.stickiness !== undefined) f.stickiness.add(def.stickiness);
  return def;
}

/**
 * Converts an Unleash features export (the client API's `GET /api/client/features` JSON:
 * `{ version, features, segments? }`, as an object or its text) into flag definitions, with a report of
 * everything that could not be carried over as it was. Pure: nothing is written.
 *
 * Carried over: `enabled`, `description`; the strategies `default`, `flexibleRollout` (rollout, stickiness,
 * groupId), `userWithId`, `remoteAddress` (exact addresses) and `gradualRollout*`, each as a rule in order;
 * constraints (`IN`, `NOT_IN`, `STR_*`, `NUM_*`, `DATE_*`, `SEMVER_*`, `REGEX`, inverted, case-insensitive);
 * segments (copied in as conditions); strategy and feature variants with weights, payloads, stickiness and
 * overrides. Reported: other strategies and operators (`IN_CIDR`), address ranges, dependencies, impression
 * data, disabled strategies, variants named `disabled`. Custom context fields are read at the top level of
 * our context (Unleash's `properties.tenantId` is `tenantId`).
 *
 * @example
 * ```ts
 * const exported = await (await fetch(`${unleashUrl}/api/client/features`, { headers: { Authorization: token } })).json();
 * const { flags, report, contextFields } = importUnleashFeatures(exported);
 * for (const line of report) console.warn(`${line.feature} ${line.path}: ${line.outcome}: ${line.message}`);
 * for (const [name, definition] of Object.entries(flags)) await setFlag(config, name, definition, { contextFields });
 * ```
 */
export function importUnleashFeatures(json: unknown): UnleashImport {
  let input = json;
  if (typeof input === 'string') {
    try {
      input = JSON.parse(input);
    } catch (error) {
      throw new FlagsError(FlagsErrorCode.INVALID_IMPORT, 'the Unleash export is not valid JSON', {
        cause: error,
      });
    }
  }
  if (!isObject(input) || !Array.isArray(input.features)) {
    throw new FlagsError(
      FlagsErrorCode.INVALID_IMPORT,
      'expected an Unleash features export: { version, features: [...], segments? } (GET /api/client/features)',
    );
  }
  const segments = new Map<unknown, Json>();
  if (Array.isArray(input.segments)) for (const s of input.segments) if (isObject(s)) segments.set(s.id, s);
  const flags: Record<string, FlagDefinition> = {};
  const report: UnleashImportIssue[] = [];
  const custom = new Set<string>();
  input.features.forEach((feature, index) => {
    const name = isObject(feature) && typeof feature.name === 'string' ? feature.name : `features[${index}]`;
    const issue = (path: string, outcome: UnleashImportIssue['outcome'], message: string): void => {
      report.push({ feature: name, path, outcome, message });
    };
    if (!isObject(feature) || typeof feature.name !== 'string') {
      issue('', 'skipped', 'not a feature object with a name');
      return;
    }
    if (!isValidFlagName(name)) {
      issue('', 'skipped', 'the name does not fit [A-Za-z0-9._:-] (1-128, not starting with _)');
      return;
    }
    const stickiness = new Set<string>();
    const def = translateFeature(feature, { name, segments, issue, stickiness });
    const fields = [...stickiness].filter((s) => !KNOWN_STICKINESS.includes(s));
    try {
      flags[name] = defineFlag(name, def, { contextFields: fields });
      for (const field of fields) custom.add(field);
    } catch (error) {
      issue('', 'skipped', (error as Error).message);
    }
  });
  return { flags, report, contextFields: [...custom].sort() };
}
