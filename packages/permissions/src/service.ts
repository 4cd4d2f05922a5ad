import { type Logger, quietListener, silentLogger, type TelemetrySetting } from '@app/core';
import { type CacheRead, memoryPermissionCache, type PermissionCache } from './cache.js';
import { type CompiledPermissions, compile, PermissionIndex, scopeApplies } from './compile.js';
import {
  type Decision,
  decision,
  matchedOf,
  type PermissionEntry,
  type SubjectPermissions,
} from './decision.js';
import { PermissionError, PermissionErrorCode } from './errors.js';
import {
  type Assignment,
  type AssignmentScope,
  assertName,
  assertRole,
  assertSubject,
  describeScope,
  type Effect,
  type NormalizedResource,
  normalizeResource,
  normalizeScope,
  parsePermission,
  type ResourceInput,
  type Rule,
} from './model.js';
import type { PermissionStore, StoredRole } from './store.js';
import { decisionAttributes, permissionsTelemetry } from './telemetry.js';

/** Options of {@link createPermissionService}. */
export interface PermissionServiceOptions {
  /** Where roles, rules and assignments live: `memoryPermissionStore()`, `prismaPermissionStore({ prisma })`... */
  store: PermissionStore;
  /**
   * Where compiled permission sets are cached. Use `redisPermissionCache` when several instances share a store.
   * @default memoryPermissionCache()
   */
  cache?: PermissionCache;
  /** Receives writes (info) and store failures (error). Never receives more than ids and rule names. @default silentLogger */
  logger?: Logger;
  /**
   * Traces and metrics through `@opentelemetry/api` (an optional peer): a `permissions.check` span per check
   * that reaches the cache or store, a `permissions.check` event on the active span for one answered from
   * this process's copy, and the `app.permissions.checks` / `app.permissions.cache.lookups` counters. Never a
   * subject, a resource id or a tenant. Free when the API is absent or no SDK is registered (an SDK registered
   * after the service is created is seen within 64 checks); `false` for none.
   * @default the global tracer and meter providers
   */
  telemetry?: TelemetrySetting;
}

export type { Decision, MatchedRule, PermissionEntry, SubjectPermissions } from './decision.js';

/** One check of a batch. */
export interface CheckQuery {
  action: string;
  resource: ResourceInput;
}

/** Options of {@link PermissionService.grant} and {@link PermissionService.revoke}. */
export interface RuleOptions {
  /** Whether the rule allows or denies; a deny always beats an allow. @default 'allow' */
  effect?: Effect;
}

/** The permission service. Every method validates its input before any I/O. */
export interface PermissionService {
  /** Whether `subject` may do `action` on `resource`. Deny by default; a deny rule beats any allow. */
  check(subject: string, action: string, resource: ResourceInput): Promise<boolean>;
  /** Like `check`, naming the role and rule that decided. */
  explain(subject: string, action: string, resource: ResourceInput): Promise<Decision>;
  /** Several checks for one subject, with one cache read (or store query). */
  checkMany(subject: string, queries: readonly CheckQuery[]): Promise<boolean[]>;
  /** The subject's permissions, loaded once, with synchronous `can`/`explain`: for hot loops. */
  forSubject(subject: string): Promise<SubjectPermissions>;
  /** The subject's effective rules, optionally only those that apply to `resource` (for UIs). */
  listPermissions(subject: string, resource?: ResourceInput): Promise<PermissionEntry[]>;
  /** Adds `permission` (`resource:action`, `*` allowed on either side) to `role`. */
  grant(role: string, permission: string, options?: RuleOptions): Promise<void>;
  /** Adds a deny rule: shorthand for `grant(role, permission, { effect: 'deny' })`. */
  deny(role: string, permission: string): Promise<void>;
  /** Removes a rule from `role`. Resolves to whether it existed. */
  revoke(role: string, permission: string, options?: RuleOptions): Promise<boolean>;
  /** Makes `role` inherit every rule of `parent`. Throws `ROLE_CYCLE` when `parent` already reaches `role`. */
  inherit(role: string, parent: string): Promise<void>;
  /** Removes an inheritance edge. */
  disinherit(role: string, parent: string): Promise<boolean>;
  /** Gives `role` to `subject`: globally, in a tenant, or on one resource. */
  assign(subject: string, role: string, scope?: AssignmentScope): Promise<void>;
  /** Removes exactly that assignment. */
  unassign(subject: string, role: string, scope?: AssignmentScope): Promise<boolean>;
  /** Deletes a role, its rules, its inheritance edges and its assignments. */
  deleteRole(role: string): Promise<boolean>;
  listRoles(): Promise<string[]>;
  getRole(role: string): Promise<StoredRole | undefined>;
  /** Closes the cache and the store (never the clients you passed them). */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates the permission service over a store, with a cache of each subject's compiled permissions.
 *
 * @example
 * ```ts
 * import { createPermissionService } from '@app/permissions';
 * import { memoryPermissionStore } from '@app/permissions/memory';
 *
 * const permissions = createPermissionService({ store: memoryPermissionStore() });
 * await permissions.grant('member', 'room:read');
 * await permissions.grant('owner', 'room:*');
 * await permissions.assign('alice', 'member');
 * await permissions.assign('alice', 'owner', { resource: { type: 'room', id: '42' } });
 * await permissions.check('alice', 'delete', 'room:42'); // true
 * await permissions.check('alice', 'delete', 'room:7');  // false
 * ```
 */
export function createPermissionService(options: PermissionServiceOptions): PermissionService {
  const { store } = options;
  const cache = options.cache ?? memoryPermissionCache();
  const logger = options.logger ?? silentLogger;
  const canPeek = typeof cache.peek === 'function';
  const otel = permissionsTelemetry(options.telemetry);
  const { telemetry } = otel;
  // While nobody listens, telemetry is asked once every 64 checks (an SDK registered later is seen within
  // that many): a quiet check costs a countdown, not a look at the OpenTelemetry globals.
  const listening = quietListener(telemetry);
  const inflight = new Map<string, Promise<PermissionIndex>>();
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new PermissionError(PermissionErrorCode.CLOSED, 'the permission service is closed');
  };

  // A compiled set from the service is a PermissionIndex already; one that went through a shared cache (JSON)
  // is indexed once and the cache keeps its local copy of that index.
  const indexOf = (compiled: CompiledPermissions): PermissionIndex => {
    if (compiled instanceof PermissionIndex) return compiled;
    const holder = compiled as CompiledPermissions & { [INDEX]?: PermissionIndex };
    let index = holder[INDEX];
    if (!index) {
      index = new PermissionIndex(compiled);
      holder[INDEX] = index;
    }
    return index;
  };

  const load = (subject: string, token: string): Promise<PermissionIndex> => {
    // Concurrent cold checks of one subject share one store query; a write changes the token, so checks
    // that start after it never join a load that started before it.
    const key = `${token}\u0000${subject}`;
    let pending = inflight.get(key);
    if (pending) return pending;
    pending = (async () => {
      let compiled: PermissionIndex;
      try {
        compiled = new PermissionIndex(compile(subject, await store.loadSubject(subject)));
      } catch (error) {
        logger.error({ subject, err: error }, 'permissions: loading a subject failed');
        throw new PermissionError(
          PermissionErrorCode.STORE_FAILED,
          `loading the permissions of a subject failed`,
          { cause: error },
        );
      }
      try {
        await cache.write(subject, compiled, token);
      } catch (error) {
        // The decision is still right; only the next check pays another load.
        logger.warn({ subject, err: error }, 'permissions: caching a compiled set failed');
      }
      return compiled;
    })().finally(() => inflight.delete(key));
    inflight.set(key, pending);
    return pending;
  };

  const fromRead = (subject: string, read: CacheRead): PermissionIndex | Promise<PermissionIndex> => {
    if (telemetry.enabled()) otel.lookup(read.compiled ? 'hit' : 'miss');
    return read.compiled ? indexOf(read.compiled) : load(subject, read.token);
  };

  // A check while somebody listens: the same decision, recorded (see telemetry.ts for what is and is not).
  const observedCheck = (subject: string, action: string, resource: ResourceInput): Promise<boolean> => {
    const a = assertName(action, 'action');
    const r = normalizeResource(resource);
    const s = assertSubject(subject);
    const compiled = canPeek && !closed ? cache.peek!(s) : undefined;
    if (compiled !== undefined) {
      // Answered from this process's copy, synchronously: an event on the caller's span, no span of its own.
      otel.lookup('hit');
      const attributes = decisionAttributes(a, r, indexOf(compiled).decide(a, r), 'hit');
      telemetry.addEvent('permissions.check', attributes);
      otel.decided(attributes);
      return attributes['app.permissions.decision'] === 'allow' ? ALLOWED : DENIED;
    }
    return telemetry.withSpan('permissions.check', undefined, async (span) => {
      const grant = (await indexFor(s)).decide(a, r);
      const attributes = decisionAttributes(a, r, grant, undefined);
      span?.setAttributes(attributes);
      otel.decided(attributes);
      return grant?.effect === 'allow';
    });
  };

  const indexFor = (subject: string): PermissionIndex | Promise<PermissionIndex> => {
    assertOpen();
    let read: CacheRead | Promise<CacheRead>;
    try {
      read = cache.read(subject);
    } catch (error) {
      return Promise.reject(wrapCache(error));
    }
    if (read instanceof Promise)
      return read.then(
        (r) => fromRead(subject, r),
        (error) => Promise.reject(wrapCache(error)),
      );
    return fromRead(subject, read);
  };

  const withIndex = <T>(subject: string, fn: (index: PermissionIndex) => T): Promise<T> => {
    try {
      const index = indexFor(subject);
      return index instanceof Promise ? index.then(fn) : Promise.resolve(fn(index));
    } catch (error) {
      return Promise.reject(error);
    }
  };

  const invalidate = async (what: 'all' | { subject: string }) => {
    try {
      if (what === 'all') await cache.invalidateAll();
      else await cache.invalidateSubject(what.subject);
    } catch (error) {
      throw new PermissionError(
        PermissionErrorCode.STORE_FAILED,
        'the write was stored but invalidating the cache failed: retry it',
        { cause: error },
      );
    }
  };

  const assignmentOf = (subject: string, role: string, scope: AssignmentScope | undefined): Assignment => {
    assertOpen();
    return { subject: assertSubject(subject), role: assertRole(role), scope: normalizeScope(scope) };
  };

  const ruleOf = (permission: string, effect: Effect | undefined): Rule => {
    const { resource, action } = parsePermission(permission);
    const e = effect ?? 'allow';
    if (e !== 'allow' && e !== 'deny')
      throw new PermissionError(PermissionErrorCode.INVALID_PERMISSION, `effect must be 'allow' or 'deny'`);
    return { effect: e, resource, action };
  };

  const service: PermissionService = {
    check(subject, action, resource) {
      if (listening()) {
        try {
          return observedCheck(subject, action, resource);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      // Fast path: a copy this process may use without I/O (a hit means the subject was validated when it
      // was cached), decided from the precomputed table, answered with a shared settled promise.
      const compiled = canPeek && !closed && typeof subject === 'string' ? cache.peek!(subject) : undefined;
      try {
        if (compiled !== undefined) return indexOf(compiled).allows(action, resource) ? ALLOWED : DENIED;
        const a = assertName(action, 'action');
        const r = normalizeResource(resource);
        const index = indexFor(assertSubject(subject));
        if (index instanceof Promise) return index.then((i) => i.decide(a, r)?.effect === 'allow');
        return index.decide(a, r)?.effect === 'allow' ? ALLOWED : DENIED;
      } catch (error) {
        return Promise.reject(error);
      }
    },

    async explain(subject, action, resource) {
      const s = assertSubject(subject);
      const a = assertName(action, 'action');
      const r = normalizeResource(resource);
      return withIndex(s, (index) => decision(index.decide(a, r)));
    },

    async checkMany(subject, queries) {
      const s = assertSubject(subject);
      const parsed = queries.map(
        (q) => [assertName(q.action, 'action'), normalizeResource(q.resource)] as const,
      );
      return withIndex(s, (index) => parsed.map(([a, r]) => index.decide(a, r)?.effect === 'allow'));
    },

    async forSubject(subject) {
      // A compiled set never changes (a write makes a new one), so it is its own snapshot.
      return indexFor(assertSubject(subject));
    },

    async listPermissions(subject, resource) {
      const s = assertSubject(subject);
      const r: NormalizedResource | undefined =
        resource === undefined ? undefined : normalizeResource(resource);
      const index = await indexFor(s);
      return index.grants
        .filter(
          (g) =>
            r === undefined || (scopeApplies(g.scope, r) && (g.resource === '*' || g.resource === r.type)),
        )
        .map(matchedOf);
    },

    async grant(role, permission, opts) {
      assertOpen();
      const name = assertRole(role);
      const rule = ruleOf(permission, opts?.effect);
      await store.addRule(name, rule);
      logger.info({ role: name, permission, effect: rule.effect }, 'permissions: rule granted');
      await invalidate('all');
    },

    deny(role, permission) {
      return service.grant(role, permission, { effect: 'deny' });
    },

    async revoke(role, permission, opts) {
      assertOpen();
      const name = assertRole(role);
      const rule = ruleOf(permission, opts?.effect);
      const existed = await store.removeRule(name, rule);
      logger.info({ role: name, permission, effect: rule.effect, existed }, 'permissions: rule revoked');
      await invalidate('all');
      return existed;
    },

    async inherit(role, parent) {
      assertOpen();
      const child = assertRole(role);
      const from = assertRole(parent);
      if (child === from || !(await store.addParent(child, from))) {
        throw new PermissionError(
          PermissionErrorCode.ROLE_CYCLE,
          `role "${child}" cannot inherit "${from}": "${from}" already inherits "${child}" (cycle ${child} -> ${from} -> ... -> ${child})`,
        );
      }
      logger.info({ role: child, parent: from }, 'permissions: role inherits');
      await invalidate('all');
    },

    async disinherit(role, parent) {
      assertOpen();
      const existed = await store.removeParent(assertRole(role), assertRole(parent));
      await invalidate('all');
      return existed;
    },

    async assign(subject, role, scope) {
      const assignment = assignmentOf(subject, role, scope);
      await store.assign(assignment);
      logger.info(logged(assignment), 'permissions: role assigned');
      await invalidate({ subject: assignment.subject });
    },

    async unassign(subject, role, scope) {
      const assignment = assignmentOf(subject, role, scope);
      const existed = await store.unassign(assignment);
      logger.info({ ...logged(assignment), existed }, 'permissions: role unassigned');
      await invalidate({ subject: assignment.subject });
      return existed;
    },

    async deleteRole(role) {
      assertOpen();
      const existed = await store.deleteRole(assertRole(role));
      await invalidate('all');
      return existed;
    },

    async listRoles() {
      assertOpen();
      return store.listRoles();
    },

    async getRole(role) {
      assertOpen();
      return store.getRole(assertRole(role));
    },

    async close() {
      if (closed) return;
      closed = true;
      await cache.close();
      await store.close();
    },

    [Symbol.asyncDispose]() {
      return service.close();
    },
  };
  return service;
}

const INDEX = Symbol('@app/permissions/index');

// Settled promises are immutable, so every cached check can share these two.
const ALLOWED = Promise.resolve(true);
const DENIED = Promise.resolve(false);

/** What the log gets of an assignment: ids and the scope in words. */
function logged(a: Assignment): { subject: string; role: string; scope: string } {
  return { subject: a.subject, role: a.role, scope: describeScope(a.scope) };
}

function wrapCache(error: unknown): unknown {
  if (error instanceof PermissionError) return error;
  return new PermissionError(PermissionErrorCode.STORE_FAILED, 'reading the permission cache failed', {
    cause: error,
  });
}
