import type { CompiledGrant } from './compile.js';
import { describeScope, type Effect, type NormalizedScope, type ResourceInput } from './model.js';

/** The rule that decided a check, and how it reached the subject. */
export interface MatchedRule {
  /** The role holding the rule. */
  role: string;
  /** The rule's pattern, e.g. `room:*`. */
  permission: string;
  effect: Effect;
  /** Inheritance path from the assigned role to `role`, e.g. `['admin', 'editor']`. */
  via: string[];
  /** Where the assignment applies. */
  scope: NormalizedScope;
}

/** Why a check came out as it did. */
export interface Decision {
  allowed: boolean;
  /** `allowed`: an allow rule matched and no deny did; `denied-by-rule`: a deny matched; `no-matching-rule`: default deny. */
  reason: 'allowed' | 'denied-by-rule' | 'no-matching-rule';
  /** The deciding rule, or `null` for the default deny. */
  matched: MatchedRule | null;
  /** One readable sentence, e.g. `denied by deny rule "room:delete" of role "banned" (assigned globally)`. */
  message: string;
}

/** One effective rule of a subject, as {@link PermissionService.listPermissions} returns it. */
export type PermissionEntry = MatchedRule;

/** A subject's permissions loaded once, answering synchronously (a snapshot: later writes are not seen). */
export interface SubjectPermissions {
  readonly subject: string;
  can(action: string, resource: ResourceInput): boolean;
  explain(action: string, resource: ResourceInput): Decision;
}

/** The rule a grant stands for, as decisions and listings show it. */
export function matchedOf(g: CompiledGrant): MatchedRule {
  return {
    role: g.role,
    permission: `${g.resource}:${g.action}`,
    effect: g.effect,
    via: g.via,
    scope: g.scope,
  };
}

/** The readable decision for the grant that decided (or `undefined` for the default deny). */
export function decision(grant: CompiledGrant | undefined): Decision {
  if (!grant) {
    return {
      allowed: false,
      reason: 'no-matching-rule',
      matched: null,
      message: 'denied by default: no rule of any assigned role matches',
    };
  }
  const matched = matchedOf(grant);
  const path = matched.via.length > 1 ? ` (via ${matched.via.join(' -> ')})` : '';
  const where = describeScope(matched.scope);
  const scope = where === 'global' ? 'assigned globally' : `assigned on ${where}`;
  const allowed = grant.effect === 'allow';
  return {
    allowed,
    reason: allowed ? 'allowed' : 'denied-by-rule',
    matched,
    message: `${allowed ? 'allowed by allow' : 'denied by deny'} rule "${matched.permission}" of role "${matched.role}"${path}, ${scope}`,
  };
}
