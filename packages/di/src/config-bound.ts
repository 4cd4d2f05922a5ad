// Config-bound providers: build from a config value, watch the key, and rebuild (swap in the new instance,
// then dispose the old one and what was built with it) when it changes. `invalidate()` rebuilds the same way.
import { type ConfigSource, validateWithSchema } from '@app/core';
import { endCreation } from './cycles.js';
import { disposeEntries, dropDependents, report, track } from './disposal.js';
import { DiError, DiErrorCode } from './errors.js';
import { type Entry, type Frame, lookup, type Node, type Slot } from './model.js';
import { pathOf } from './path.js';
import { buildAsync, resolveAsyncIn, resolverFor } from './resolution.js';
import { createToken, type Token } from './token.js';
import type { ConfigFactoryProvider } from './types.js';

/**
 * The token config-bound providers read their {@link ConfigSource} from, unless they name another one.
 * `createContainer({ config })` registers it for you.
 *
 * @example
 * ```ts
 * container.register(CONFIG_SOURCE, { useValue: configService });
 * ```
 */
export const CONFIG_SOURCE: Token<ConfigSource> = createToken<ConfigSource>('ConfigSource');

function sameConfig(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

/** Reads the config value and builds from it; `undefined` when `onlyIfChanged` and it did not change. */
export async function buildFromConfig(
  c: Node,
  slot: Slot,
  frame: Frame,
  onlyIfChanged: boolean,
): Promise<{ instance: unknown; raw: unknown } | undefined> {
  const provider = slot.reg.provider as ConfigFactoryProvider<unknown, unknown>;
  const sourceToken = provider.configSource ?? CONFIG_SOURCE;
  const source = (await resolveAsyncIn(c, sourceToken, lookup(c, sourceToken), frame)) as ConfigSource;
  // Watch before reading, so a change landing between the read and the watch is not missed.
  slot.unwatch ??= source.watch(provider.configKey, () => onConfigChange(c, slot));
  const raw = await source.get(provider.configKey);
  if (onlyIfChanged && sameConfig(raw, slot.configValue)) return undefined;
  let value = raw;
  if (provider.schema !== undefined) {
    const result = await validateWithSchema(provider.schema, raw);
    if (!result.ok) {
      throw new DiError(
        DiErrorCode.INVALID_CONFIG,
        `config '${provider.configKey}' for '${slot.reg.name}' is invalid: ${result.issues.join('; ')}`,
        { path: pathOf(frame) },
      );
    }
    value = result.value;
  }
  return { instance: await provider.useConfigFactory(value, resolverFor(c, frame)), raw };
}

function onConfigChange(c: Node, slot: Slot): void {
  if (c.disposed) return;
  if (slot.pending !== undefined) {
    slot.dirty = true;
    return;
  }
  if (slot.has) void rebuild(c, slot, false, true);
}

/**
 * Builds a replacement, swaps it in, then disposes the old instance and the cached instances built
 * with it. Resolves during the rebuild share its promise; a failure keeps the old instance.
 */
export function rebuild(c: Node, slot: Slot, force: boolean, background: boolean): Promise<void> {
  const reg = slot.reg;
  const frame: Frame = { reg, parent: undefined, owner: slot, inSingleton: reg.lifetime === 'singleton' };
  const oldEntry = slot.entry;
  // The transients of the old instance go with it; those the new build makes are collected afresh.
  const oldTransients = slot.transients;
  slot.transients = undefined;
  slot.building = frame;
  const work: Promise<{ instance: unknown; raw: unknown } | undefined> = c.shared.telemetry.rebuild(
    reg,
    force ? 'invalidate' : 'config_change',
    () =>
      reg.kind === 'config'
        ? buildFromConfig(c, slot, frame, !force)
        : buildAsync(c, reg, frame, slot).then((instance) => ({ instance, raw: undefined })),
    (built) => built !== undefined,
  );
  const outcome = work.then(
    (built) => {
      if (built === undefined) return { ok: true as const, changed: false };
      slot.value = built.instance;
      slot.configValue = built.raw;
      slot.entry = track(c, reg, built.instance, c);
      return { ok: true as const, changed: true };
    },
    (error: unknown) => ({ ok: false as const, error }),
  );
  slot.pending = outcome.then(() => slot.value);
  return outcome.then(async (result) => {
    slot.pending = undefined;
    endCreation(slot);
    if (slot.dirty && !c.disposed) {
      slot.dirty = false;
      void rebuild(c, slot, false, true);
    }
    if (result.ok && result.changed) {
      const stale: Entry[] = [];
      dropDependents(slot, stale);
      if (oldEntry !== undefined) stale.push(oldEntry);
      if (oldTransients !== undefined) stale.push(...oldTransients);
      for (const error of await disposeEntries(stale)) report(c, error, reg.name);
      if (c.disposed) await disposeEntries(slot.entry ? [slot.entry] : []);
    }
    if (!(result.ok && result.changed) && oldTransients !== undefined) {
      // The old instance stays in service, with its transients.
      slot.transients = [...oldTransients, ...(slot.transients ?? [])];
    }
    if (!result.ok) {
      const error = new DiError(
        DiErrorCode.REBUILD_FAILED,
        `rebuilding '${reg.name}' failed; the previous instance stays in service`,
        { cause: result.error },
      );
      if (!background) throw error;
      report(c, error, reg.name);
    }
  });
}
