import { PermissionError, PermissionErrorCode } from './errors.js';

/** Whether a rule grants or forbids. A deny always beats an allow, whatever their order. */
export type Effect = 'allow' | 'deny';

/** A rule of a role: `effect` on `resource:action`, where either side may be `*` (stored policy only). */
export interface Rule {
  /** @default 'allow' */
  effect: Effect;
  /** A resource type (`room`) or `*`. */
  resource: string;
  /** An action (`delete`) or `*`. */
  action: string;
}

/** One resource: its type, and optionally its id and the tenant it belongs to. */
export interface ResourceRef {
  /** The resource type, e.g. `room`. A plain name, never a wildcard. */
  type: string;
  /** The resource id, e.g. `42`. Validated and NFC-normalised (see README, "Resource ids"). */
  id?: string | number;
  /** The tenant the resource belongs to. Validated like an id. */
  tenant?: string;
}

/** A resource as the caller names it: `'room'`, `'room:42'` (type and id) or a {@link ResourceRef}. */
export type ResourceInput = string | ResourceRef;

/**
 * Where a role assignment applies. Empty (`{}`) is global; `tenant` limits it to resources of that tenant;
 * `resource` limits it to that single resource (and, with `tenant` too, to that resource in that tenant).
 */
export interface AssignmentScope {
  /** Only resources of this tenant. */
  tenant?: string;
  /** Only this one resource. */
  resource?: { type: string; id: string | number };
}

/** A role given to a subject, with where it applies. */
export interface Assignment {
  subject: string;
  role: string;
  scope: NormalizedScope;
}

/** A scope after validation: ids are NFC-normalised strings. */
export interface NormalizedScope {
  tenant?: string;
  resource?: { type: string; id: string };
}

/** A resource after validation. */
export interface NormalizedResource {
  type: string;
  id?: string;
  tenant?: string;
}

/** What {@link isName} accepts, as a pattern (for messages and tests). */
export const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const ROLE = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$/;
/** Control, format (zero-width, bidi), surrogate, private-use and unassigned code points, and separators. */
const ODD = /[\p{C}\p{Z}]/u;
/** Characters that mean something to matching or to paths, refused in ids so that no id can look like one. */
const RESERVED = /[*:/\\?#%]/;
/** Longest resource or tenant id, in code points, after normalisation. */
export const MAX_ID_LENGTH = 128;
/** Longest subject id, in code points. */
export const MAX_SUBJECT_LENGTH = 256;
const SUBJECT = /^\P{C}{1,256}$/u;
/** Printable ASCII: most subject ids, tested first because it is cheaper than the Unicode class. */
const ASCII_SUBJECT = /^[ -~]{1,256}$/;
// Validation is pure, so recent results are reused (resources frozen: callers cannot alter them).
const PARSED_MAX = 4096;
const parsed = new Map<string, NormalizedResource>();

function invalid(code: PermissionErrorCode, message: string): never {
  throw new PermissionError(code, message);
}

/**
 * Validates and normalises an id that came from a user (a resource id or tenant id): NFC-normalises it,
 * then refuses it when empty, longer than {@link MAX_ID_LENGTH} code points, `.` or `..` or containing
 * `..`, containing `* : / \ ? # %`, whitespace, control, format (zero-width, bidi), private-use or
 * unassigned characters, or when its compatibility form (NFKC) would contain any of these (so a
 * full-width `＊` or `：` is refused too). Numbers must be non-negative safe integers.
 *
 * @example
 * ```ts
 * normalizeId('Cafe\u0301'); // 'Café' (NFC)
 * normalizeId('*');          // throws PermissionError INVALID_RESOURCE
 * ```
 */
export function normalizeId(value: unknown, what = 'resource id'): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      invalid(PermissionErrorCode.INVALID_RESOURCE, `${what} must be a non-negative integer or a string`);
    return String(value);
  }
  if (typeof value !== 'string') invalid(PermissionErrorCode.INVALID_RESOURCE, `${what} must be a string`);
  let id: string;
  try {
    id = value.normalize('NFC');
  } catch {
    invalid(PermissionErrorCode.INVALID_RESOURCE, `${what} is not valid Unicode`);
  }
  if (id.length === 0) invalid(PermissionErrorCode.INVALID_RESOURCE, `${what} is empty`);
  if ([...id].length > MAX_ID_LENGTH)
    invalid(PermissionErrorCode.INVALID_RESOURCE, `${what} is longer than ${MAX_ID_LENGTH} characters`);
  for (const form of [id, id.normalize('NFKC')]) {
    if (ODD.test(form))
      invalid(
        PermissionErrorCode.INVALID_RESOURCE,
        `${what} contains whitespace, control or invisible characters`,
      );
    if (RESERVED.test(form))
      invalid(PermissionErrorCode.INVALID_RESOURCE, `${what} contains a reserved character (* : / \\ ? # %)`);
    if (form === '.' || form.includes('..'))
      invalid(PermissionErrorCode.INVALID_RESOURCE, `${what} contains '..'`);
  }
  return id;
}

/**
 * The characters of a {@link NAME}, by code unit below 128: 2 a letter (may start a name), 1 a digit, `_` or
 * `-`, 0 anything else (anything at 128 or above is refused before the table).
 */
const NAME_CHARS = new Uint8Array(128).map((_, c) =>
  (c | 32) >= 97 && (c | 32) <= 122 ? 2 : (c >= 48 && c <= 57) || c === 95 || c === 45 ? 1 : 0,
);

/** Most names {@link nameHash} remembers; past it the memo starts over (so memory stays bounded). */
const NAME_MEMO_MAX = 4096;
/**
 * Valid names seen, with their hash. A null-prototype object, not a `Map`: V8 keeps it as a dictionary
 * keyed by internalised strings, so a name the application writes as a literal (or any string V8 has
 * already internalised, as it does a string used as a property key) is found by identity, with no pass
 * over its characters: about 8 ns against 15-20 ns for an 11-character name. The cost is on names built
 * fresh for each call (sliced from a URL, say): V8 first looks such a string up in its string table, about
 * 55 ns more per name than the pass (measured; `bench/anchor.bench.ts`, "fresh strings"). Actions and types
 * are nearly always literals in application code, so the memo serves the common case. Only valid names
 * enter (never a string of more than 64 characters), and at {@link NAME_MEMO_MAX} names it is replaced by
 * an empty one, so input cannot grow it.
 */
let nameMemo: Record<string, number> = Object.create(null);
let nameMemoSize = 0;

/**
 * Validates a plain name ({@link NAME}: a letter, then up to 63 letters, digits, `_` or `-`) and hashes it:
 * -1 when `value` is not a name, else a 16-bit hash (FNV-1a, folded). It runs on every check: a name seen
 * before comes from a memo (one dictionary lookup), any other is validated and hashed in one pass over its
 * characters (a table lookup per character costs less than the regular expression). The hash lets a check
 * find a type's place in a table without a lookup.
 *
 * @example
 * ```ts
 * nameHash('room') >= 0; // true
 * nameHash('room:1');    // -1
 * ```
 */
export function nameHash(value: string): number {
  const n = value.length;
  if (n === 0 || n > 64) return -1;
  const known = nameMemo[value];
  if (known !== undefined) return known;
  const h = scanName(value, n);
  if (h >= 0) {
    if (nameMemoSize === NAME_MEMO_MAX) {
      nameMemo = Object.create(null);
      nameMemoSize = 0;
    }
    nameMemo[value] = h;
    nameMemoSize++;
  }
  return h;
}

/** {@link nameHash} without the memo: one pass over the `n` characters of `value`. */
function scanName(value: string, n: number): number {
  let c = value.charCodeAt(0);
  if (c > 127 || NAME_CHARS[c] !== 2) return -1;
  let h = Math.imul(0x811c9dc5 ^ c, 0x01000193);
  for (let i = 1; i < n; i++) {
    c = value.charCodeAt(i);
    if (c > 127 || NAME_CHARS[c] === 0) return -1;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return (h ^ (h >>> 16)) & 0xffff;
}

/**
 * Whether `value` is a plain name ({@link NAME}); see {@link nameHash}.
 *
 * @example
 * ```ts
 * isName('room');   // true
 * isName('room:1'); // false
 * ```
 */
export function isName(value: string): boolean {
  return nameHash(value) >= 0;
}

/** Checks an action or resource type: a plain name, never a wildcard. */
export function assertName(value: unknown, what: string): string {
  if (typeof value !== 'string' || !isName(value)) {
    invalid(PermissionErrorCode.INVALID_ACTION, `${what} must match ${NAME} (got ${describe(value)})`);
  }
  return value;
}

/** Checks a role name: letters, digits, `_ . @ -`, at most 128 characters, no `..`. */
export function assertRole(value: unknown): string {
  if (typeof value !== 'string' || !ROLE.test(value) || value.includes('..')) {
    invalid(
      PermissionErrorCode.INVALID_ROLE,
      `role must match ${ROLE} without '..' (got ${describe(value)})`,
    );
  }
  return value;
}

/** Checks a subject id: 1 to 256 code points, no control or invisible characters. */
export function assertSubject(value: unknown): string {
  if (typeof value !== 'string' || !(ASCII_SUBJECT.test(value) || SUBJECT.test(value))) {
    invalid(
      PermissionErrorCode.INVALID_SUBJECT,
      `subject must be a non-empty string of at most ${MAX_SUBJECT_LENGTH} printable characters`,
    );
  }
  return value;
}

/**
 * Parses a permission pattern from stored policy: `resource:action`, each side a plain name or `*`.
 * This is the only place wildcards are accepted.
 *
 * @example
 * ```ts
 * parsePermission('room:*'); // { resource: 'room', action: '*' }
 * ```
 */
export function parsePermission(permission: string): { resource: string; action: string } {
  const parts = typeof permission === 'string' ? permission.split(':') : [];
  const [resource, action] = parts;
  const ok = (s: string | undefined) => s !== undefined && (s === '*' || isName(s));
  if (parts.length !== 2 || !ok(resource) || !ok(action)) {
    invalid(
      PermissionErrorCode.INVALID_PERMISSION,
      `permission must be 'resource:action' with names or '*' (got ${describe(permission)})`,
    );
  }
  return { resource: resource!, action: action! };
}

/**
 * Validates a resource named by a caller: the type is a plain name, the id and tenant go through
 * {@link normalizeId}. Wildcards are refused here: they only come from stored policy.
 *
 * @example
 * ```ts
 * normalizeResource('room:42');                       // { type: 'room', id: '42' }
 * normalizeResource({ type: 'room', id: 7, tenant: 'acme' }); // { type: 'room', id: '7', tenant: 'acme' }
 * normalizeResource('room:*');                        // throws PermissionError INVALID_RESOURCE
 * ```
 */
export function normalizeResource(input: ResourceInput): NormalizedResource {
  if (typeof input === 'string') {
    let out = parsed.get(input);
    if (out === undefined) {
      const colon = input.indexOf(':');
      out = Object.freeze(
        colon === -1
          ? { type: assertName(input, 'resource type') }
          : {
              type: assertName(input.slice(0, colon), 'resource type'),
              id: normalizeId(input.slice(colon + 1)),
            },
      );
      if (parsed.size >= PARSED_MAX) parsed.clear();
      parsed.set(input, out);
    }
    return out;
  }
  if (typeof input !== 'object' || input === null) {
    invalid(PermissionErrorCode.INVALID_RESOURCE, 'resource must be a string or { type, id?, tenant? }');
  }
  const out: NormalizedResource = { type: assertName(input.type, 'resource type') };
  if (input.id !== undefined) out.id = normalizeId(input.id);
  if (input.tenant !== undefined) out.tenant = normalizeId(input.tenant, 'tenant id');
  return out;
}

/** Validates an assignment scope. */
export function normalizeScope(scope: AssignmentScope | undefined): NormalizedScope {
  if (scope === undefined) return {};
  const out: NormalizedScope = {};
  if (scope.tenant !== undefined) out.tenant = normalizeId(scope.tenant, 'tenant id');
  if (scope.resource !== undefined) {
    out.resource = {
      type: assertName(scope.resource.type, 'resource type'),
      id: normalizeId(scope.resource.id),
    };
  }
  return out;
}

/** A printable form of a scope, for messages: `global`, `tenant acme`, `room:42`. */
export function describeScope(scope: NormalizedScope): string {
  const parts: string[] = [];
  if (scope.tenant !== undefined) parts.push(`tenant ${scope.tenant}`);
  if (scope.resource) parts.push(`${scope.resource.type}:${scope.resource.id}`);
  return parts.length === 0 ? 'global' : parts.join(' / ');
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value;
}
