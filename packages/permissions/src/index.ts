export type { CacheRead, MemoryPermissionCacheOptions, PermissionCache } from './cache.js';
export { memoryPermissionCache } from './cache.js';
export type { CompiledGrant, CompiledPermissions } from './compile.js';
export { isPermissionsError, PermissionError, PermissionErrorCode } from './errors.js';
export type {
  GuardOutcome,
  GuardStatus,
  PermissionErrorBody,
  PermissionGuardOptions,
  PermissionGuards,
  RequireOptions,
  RouteGuard,
} from './middleware.js';
export { createRouteGuard, permissionGuards } from './middleware.js';
export type {
  Assignment,
  AssignmentScope,
  Effect,
  NormalizedResource,
  NormalizedScope,
  ResourceInput,
  ResourceRef,
  Rule,
} from './model.js';
export {
  MAX_ID_LENGTH,
  MAX_SUBJECT_LENGTH,
  normalizeId,
  normalizeResource,
  parsePermission,
} from './model.js';
export type {
  CheckQuery,
  Decision,
  MatchedRule,
  PermissionEntry,
  PermissionService,
  PermissionServiceOptions,
  RuleOptions,
  SubjectPermissions,
} from './service.js';
export { createPermissionService } from './service.js';
export type { PermissionStore, StoredRole, SubjectPolicy } from './store.js';
