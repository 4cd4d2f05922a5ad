import { ConsoleError } from '../errors.js';
import { HISTORY_PREFIX } from '../history.js';
import { type Route, requireString, type Section } from '../http.js';
import { assertNoPlaceholder, isSecretKey, REDACTED, redact } from '../redact.js';
import type { ConsoleConfig } from '../types.js';

const shown = (key: string, value: unknown) => (isSecretKey(key) ? REDACTED : value);

/**
 * The config section: keys by prefix with their value and version, edits through `set` (the service's schema
 * validation answers 400), deletes; every change on any instance is pushed live (the key only, never the
 * value).
 */
export function configSection(config: ConsoleConfig, prefixes: readonly string[]): Section {
  const routes: Route[] = [
    {
      method: 'GET',
      path: '',
      handle: async ({ url }) => {
        const prefix = url.searchParams.get('prefix') || prefixes[0] || '';
        if (prefix === '') return { prefixes, prefix, entries: [] };
        const listing = await config.list(prefix);
        const entries = [...listing].map(([key, { value, version }]) => {
          const visible = redact(shown(key, value));
          // A value with a redacted part cannot be edited here: saving it would write the placeholder.
          return { key, value: visible, version, hidden: JSON.stringify(visible).includes(REDACTED) };
        });
        return { prefixes, prefix, entries };
      },
    },
    {
      method: 'PUT',
      path: '/:key',
      write: true,
      handle: async ({ params, body, record }) => {
        const key = requireString(params.key, 'key');
        const input = await body();
        if (!('value' in input)) throw new ConsoleError('INVALID_INPUT', 'body must have a `value`');
        assertNoPlaceholder(input.value);
        const before = await config.get(key);
        const version = await config.set(key, input.value as never);
        await record({
          action: 'set',
          target: key,
          before: shown(key, before),
          after: shown(key, input.value),
        });
        return { key, version };
      },
    },
    {
      method: 'DELETE',
      path: '/:key',
      write: true,
      handle: async ({ params, record }) => {
        const key = requireString(params.key, 'key');
        const before = await config.get(key);
        const deleted = await config.delete(key);
        if (deleted) await record({ action: 'delete', target: key, before: shown(key, before) });
        return { key, deleted };
      },
    },
  ];
  let stop: (() => void) | undefined;
  return {
    name: 'config',
    routes,
    async start(notify) {
      stop = config.watch('*', (_value, key) => {
        if (!key.startsWith(HISTORY_PREFIX)) notify({ key });
      });
    },
    async close() {
      stop?.();
    },
  };
}
