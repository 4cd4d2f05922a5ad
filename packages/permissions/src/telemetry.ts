// Permission checks as OpenTelemetry sees them. Attributes carry the decision and its kind, the action and
// the resource *type* — never the subject, a resource id or a tenant: apps often use an email address or
// another personal identifier as the subject, and resource ids can name people too. Roles and actions are
// names the app's developers chose, not user data. Built only when somebody listens.
import { createTelemetry, type Telemetry, type TelemetryAttributes, type TelemetrySetting } from '@app/core';
import type { CompiledGrant } from './compile.js';
import type { NormalizedResource } from './model.js';

/** The instrumentation scope of this package. */
export const PERMISSIONS_SCOPE = '@app/permissions';

/** Where an answer came from: the service's cache (`hit`) or the store (`miss`). */
export type CacheResult = 'hit' | 'miss';

/** What a check's decision records: see docs/observability.md. */
export function decisionAttributes(
  action: string,
  resource: NormalizedResource,
  grant: CompiledGrant | undefined,
  cache: CacheResult | undefined,
): TelemetryAttributes {
  const allowed = grant?.effect === 'allow';
  const attributes: TelemetryAttributes = {
    'app.permissions.decision': allowed ? 'allow' : 'deny',
    'app.permissions.reason':
      grant === undefined ? 'no-matching-rule' : allowed ? 'allowed' : 'denied-by-rule',
    'app.permissions.action': action,
    'app.permissions.resource.type': resource.type,
  };
  if (grant !== undefined) attributes['app.permissions.role'] = grant.role;
  if (cache !== undefined) attributes['app.permissions.cache.result'] = cache;
  return attributes;
}

/** The service's instruments. */
export interface PermissionsTelemetry {
  telemetry: Telemetry;
  /** Counts a decision (by decision and reason kind). */
  decided(attributes: TelemetryAttributes): void;
  /** Counts a cache lookup of the service (for the hit ratio). */
  lookup(result: CacheResult): void;
}

export function permissionsTelemetry(setting: TelemetrySetting | undefined): PermissionsTelemetry {
  const telemetry = createTelemetry(PERMISSIONS_SCOPE, setting);
  // Tallied in process, read when the SDK collects: a check is a hot path, and a synchronous counter's add
  // (the SDK finding the attribute set's accumulator) cost more than the rest of an observed check.
  const checks = telemetry.tally('app.permissions.checks', {
    unit: '{check}',
    description: 'Permission checks, by decision (allow/deny) and reason.',
  });
  const lookups = telemetry.tally('app.permissions.cache.lookups', {
    unit: '{lookup}',
    description: 'Cache lookups of compiled permission sets, by result (hit/miss): the hit ratio.',
  });
  const HIT = { 'app.permissions.cache.result': 'hit' };
  const MISS = { 'app.permissions.cache.result': 'miss' };
  return {
    telemetry,
    decided(attributes) {
      const decision = attributes['app.permissions.decision'];
      const reason = attributes['app.permissions.reason'];
      // The reason names the decision too (allowed, denied-by-rule, no-matching-rule): the key, as is.
      checks.add(reason as string, () => ({
        'app.permissions.decision': decision,
        'app.permissions.reason': reason,
      }));
    },
    lookup(result) {
      lookups.add(result, result === 'hit' ? HIT : MISS);
    },
  };
}
