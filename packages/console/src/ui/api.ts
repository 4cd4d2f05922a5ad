// The browser side's access to the console API: fetch with the CSRF header, errors as messages.

import htm from 'htm';
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export const html = htm.bind(h);

const root = document.getElementById('app') as HTMLElement;
/** The mount path the server wrote into the page. */
export const base = root.dataset.base ?? '';
let csrfToken = '';

/** Sets the token every write sends in `x-console-csrf`. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** An API failure, with the server's message and issues. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues: string[] = [],
  ) {
    super(message);
  }
}

/** Calls the console API; rejects with {@link ApiError} on a non-2xx answer. */
export async function api<T = unknown>(path: string, method = 'GET', body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-console-csrf'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}/api${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = (data as { error?: { message?: string; issues?: string[] } }).error ?? {};
    throw new ApiError(response.status, error.message ?? `HTTP ${response.status}`, error.issues ?? []);
  }
  return data as T;
}

// Live updates: one EventSource for the page; each section topic bumps a counter the views depend on.
const versions = new Map<string, number>();
const listeners = new Set<() => void>();
let source: EventSource | undefined;

/** Opens the live stream (server-sent events), once. */
export function connectLive(topics: string[]): void {
  if (source) return;
  source = new EventSource(`${base}/api/live`, { withCredentials: true });
  for (const topic of [...topics, 'history']) {
    source.addEventListener(topic, () => {
      versions.set(topic, (versions.get(topic) ?? 0) + 1);
      for (const listener of listeners) listener();
    });
  }
}

/** A number that changes whenever `topic` gets a live update. */
export function useLive(topic: string): number {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((t) => t + 1);
    listeners.add(listener);
    return () => listeners.delete(listener);
  }, []);
  return versions.get(topic) ?? 0;
}

/** Loads `path` again whenever one of `deps` (live versions included) changes. */
export function useLoad<T>(
  path: string | null,
  deps: unknown[],
): { data?: T; error?: string; reload(): void } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let current = true;
    api<T>(path).then(
      (data) => current && setState({ data }),
      (error: Error) => current && setState((s) => ({ data: s.data, error: error.message })),
    );
    return () => {
      current = false;
    };
  }, [path, nonce, ...deps]);
  return { ...state, reload: () => setNonce((n) => n + 1) };
}

/** Runs a write and reports its outcome through `say`. */
export async function attempt(
  say: (message: string, error?: boolean) => void,
  task: () => Promise<unknown>,
  done: string,
) {
  try {
    await task();
    say(done);
  } catch (error) {
    const e = error as ApiError;
    say(e.issues?.length ? `${e.message}: ${e.issues.join('; ')}` : e.message, true);
  }
}

/** Formats a time for tables. */
export const time = (ms: number) => new Date(ms).toLocaleTimeString();
