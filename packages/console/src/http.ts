import { isAppError } from '@app/core';
import { ConsoleError, ConsoleErrorCode } from './errors.js';
import { redact } from './redact.js';
import type { ChangeRecord, SectionName } from './types.js';

/** The JSON body of every error the console answers with. */
export interface ConsoleErrorBody {
  error: { status: number; code: string; message: string; issues?: readonly string[] };
}

/** A JSON response whose body went through {@link redact}. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return rawJson(redact(body), status, headers);
}

/** A JSON response sent as is: only for the console's own error bodies. */
function rawJson(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

/** An error response in the console's one shape. */
export function errorResponse(status: number, code: string, message: string, issues?: readonly string[]) {
  const body: ConsoleErrorBody = { error: { status, code, message, ...(issues ? { issues } : {}) } };
  return rawJson(body, status);
}

/**
 * Maps what a handler threw: an @app error about bad input (`INVALID_*`) is the operator's mistake (400, with
 * its message and issues); `NOT_AVAILABLE` is 404; anything else is 500 without details.
 */
export function errorToResponse(error: unknown): Response {
  if (isAppError(error)) {
    if (error.code === ConsoleErrorCode.NOT_AVAILABLE) return errorResponse(404, error.code, error.message);
    if (error.code.startsWith('INVALID')) {
      const issues = (error as { issues?: unknown }).issues;
      return errorResponse(
        400,
        error.code,
        error.message,
        Array.isArray(issues) && issues.length > 0 ? issues.map(String) : undefined,
      );
    }
  }
  return errorResponse(500, 'INTERNAL', 'the console could not complete the request');
}

/** What a route handler receives. */
export interface RouteContext {
  request: Request;
  url: URL;
  /** The `:name` parameters of the route, decoded. */
  params: Record<string, string>;
  /** Who is asking (already authorized). */
  subject: string;
  /** The JSON body (an object), or 400. */
  body(): Promise<Record<string, unknown>>;
  /** Records a write in the change history (subject and time added). */
  record(change: Omit<ChangeRecord, 'id' | 'at' | 'subject' | 'section'>): Promise<void>;
}

/** One API route of a section. `write` routes need `console:write` on the section and a CSRF token. */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Under `<basePath>/api/<section>`, e.g. `/:name/toggle` (empty for the section root). */
  path: string;
  write?: boolean;
  handle(ctx: RouteContext): Promise<unknown>;
}

/** One section: its routes, and what it starts (subscriptions) and stops. */
export interface Section {
  name: SectionName;
  routes: Route[];
  /** Starts the section's subscriptions; `notify` sends a live update to the readers of this section. */
  start?(notify: (data: unknown) => void): Promise<void>;
  close?(): Promise<void>;
}

const MAX_BODY_BYTES = 256 * 1024;

/** Parses `text` as a JSON object, or throws INVALID_INPUT naming `what`. Empty text is `{}`. */
export function parseJsonObject(text: string, what: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConsoleError('INVALID_INPUT', `${what} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** Reads a JSON object body (at most 256 KiB), or throws INVALID_INPUT. */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) throw new ConsoleError('INVALID_INPUT', 'request body too large');
  return parseJsonObject(text, 'the request body');
}

/** Matches `/flags/:name` against a path; resolves the decoded parameters or `undefined`. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith(':')) {
      if (g === '') return undefined;
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) return undefined;
  }
  return params;
}

/** A required string field of a body or query, or INVALID_INPUT. */
export function requireString(value: unknown, what: string, max = 512): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new ConsoleError(
      'INVALID_INPUT',
      `${what} must be a non-empty string of at most ${max} characters`,
    );
  }
  return value;
}

/** An optional list of strings (ids), or INVALID_INPUT. */
export function optionalStrings(value: unknown, what: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new ConsoleError('INVALID_INPUT', `${what} must be a list of strings`);
  }
  return value as string[];
}
