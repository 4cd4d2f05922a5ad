import { type FlagContext, type FlagDefinition, type FlagStore, setFlag } from '@app/flags';
import { ConsoleError } from '../errors.js';
import { uncounted } from '../evaluations.js';
import { parseJsonObject, type Route, requireString, type Section } from '../http.js';
import { assertNoPlaceholder } from '../redact.js';
import type { ConsoleFlags } from '../types.js';

function definitionOf(flags: ConsoleFlags, name: string): FlagDefinition {
  const definition = flags.definition(name);
  if (!definition) throw new ConsoleError('NOT_AVAILABLE', `no flag named ${JSON.stringify(name)}`);
  return definition;
}

/**
 * The flags section: every flag with its definition; toggle, rollout and whole-definition edits through
 * `@app/flags`' `setFlag` (the API's validation); evaluation with its reason.
 */
export function flagsSection(flags: ConsoleFlags, store: FlagStore | undefined, keyPrefix?: string): Section {
  const counts =
    typeof flags.recentEvaluations === 'function' ? flags.recentEvaluations.bind(flags) : undefined;
  // The console's own "evaluate for this context" is not an evaluation of the app: it bypasses the counter.
  const evaluator = uncounted(flags);
  const write = async (name: string, definition: FlagDefinition) => {
    if (!store) throw new ConsoleError('NOT_AVAILABLE', 'flag writes need `flagStore` or `config`');
    return setFlag(store, name, definition, { keyPrefix, contextFields: ['*'] });
  };
  /** A POST that changes one existing flag: `change` turns its definition and the body into the next one. */
  const update = (
    path: string,
    change: (
      before: FlagDefinition,
      input: Record<string, unknown>,
    ) => { action: string; definition: FlagDefinition },
  ): Route => ({
    method: 'POST',
    path,
    write: true,
    handle: async ({ params, body, record }) => {
      const name = requireString(params.name, 'flag name');
      const before = definitionOf(flags, name);
      const { action, definition } = change(before, await body());
      const after = await write(name, definition);
      await record({ action, target: name, before, after });
      return after;
    },
  });
  const routes: Route[] = [
    {
      method: 'GET',
      path: '',
      handle: async () => ({
        writable: store !== undefined,
        flags: flags.names().map((name) => ({
          name,
          definition: flags.definition(name) ?? null,
          // Counted by `countEvaluations` when the app evaluates through it; null when nobody counts.
          evaluations: counts ? counts(name) : null,
        })),
      }),
    },
    {
      method: 'GET',
      path: '/:name/evaluate',
      handle: async ({ params, url }) => {
        const name = requireString(params.name, 'flag name');
        return evaluator.evaluate(
          name,
          parseJsonObject(url.searchParams.get('context') ?? '', 'context') as FlagContext,
        );
      },
    },
    update('/:name/toggle', (before, { enabled }) => {
      const next = typeof enabled === 'boolean' ? enabled : !before.enabled;
      return { action: next ? 'enable' : 'disable', definition: { ...before, enabled: next } };
    }),
    update('/:name/rollout', (before, { rollout }) => ({
      action: 'rollout',
      definition: { ...before, rollout: rollout as number },
    })),
    {
      method: 'PUT',
      path: '/:name',
      write: true,
      handle: async ({ params, body, record }) => {
        const name = requireString(params.name, 'flag name');
        const before = flags.definition(name);
        const { definition } = await body();
        if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) {
          throw new ConsoleError('INVALID_INPUT', 'definition must be a JSON object');
        }
        assertNoPlaceholder(definition);
        const after = await write(name, definition as FlagDefinition);
        await record({ action: before ? 'edit' : 'create', target: name, before, after });
        return after;
      },
    },
  ];
  let stop: (() => void) | undefined;
  return {
    name: 'flags',
    routes,
    async start(notify) {
      stop = flags.onChange((change) => notify({ flags: change.flags }));
    },
    async close() {
      stop?.();
    },
  };
}
