import type { Unsubscribe } from '@app/core';
import {
  ErrorCode,
  type EvaluationContext,
  type JsonValue,
  OpenFeatureEventEmitter,
  type Provider,
  ProviderEvents,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import type { Flags } from './flags.js';
import type { Evaluation, FlagContext, JsonValue as FlagJson } from './types.js';

/** Options of {@link createOpenFeatureProvider}. */
export interface OpenFeatureProviderOptions {
  /** The provider name OpenFeature reports in metadata. @default '@app/flags' */
  name?: string;
  /** Also close the `Flags` when OpenFeature closes the provider (on shutdown or replacement). @default false */
  closeFlags?: boolean;
}

type Kind = 'string' | 'number' | 'object';

/**
 * Maps an OpenFeature context to a flags context: primitives and dates are kept, nested objects dropped,
 * and `targetingKey` becomes `userId` unless the context sets `userId` itself.
 *
 * @example
 * ```ts
 * toFlagContext({ targetingKey: 'u-42', country: 'FR' }); // { targetingKey: 'u-42', country: 'FR', userId: 'u-42' }
 * ```
 */
export function toFlagContext(context: EvaluationContext): FlagContext {
  const out: FlagContext = {};
  for (const [key, value] of Object.entries(context)) {
    if (
      value === null ||
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean' ||
      value instanceof Date
    ) {
      out[key] = value;
    }
  }
  if (out.userId === undefined && typeof context.targetingKey === 'string') out.userId = context.targetingKey;
  return out;
}

function details(ev: Evaluation): Omit<ResolutionDetails<never>, 'value'> {
  const meta: Record<string, string | number> = {};
  if (ev.ruleIndex !== undefined) meta.ruleIndex = ev.ruleIndex;
  if (ev.ruleName !== undefined) meta.ruleName = ev.ruleName;
  const out: Omit<ResolutionDetails<never>, 'value'> = { reason: ev.reason };
  if (ev.variant) out.variant = ev.variant.name;
  if (Object.keys(meta).length > 0) out.flagMetadata = meta;
  return out;
}

function matches(kind: Kind, value: FlagJson | undefined): boolean {
  if (kind === 'object') return typeof value === 'object' && value !== null;
  return typeof value === kind;
}

/**
 * The OpenFeature server provider over a {@link Flags} instance.
 *
 * - boolean: whether the flag is on; a flag whose kill switch is off (`enabled: false`) resolves to the
 *   caller's default value with reason DISABLED, as the OpenFeature spec says;
 * - string, number, object: the payload of the user's variant (a string flag whose variant has no payload
 *   resolves to the variant name). A flag that is off resolves to the default value with its reason.
 * - errors: FLAG_NOT_FOUND, PARSE_ERROR (a stored definition failed validation), PROVIDER_NOT_READY, and
 *   TYPE_MISMATCH when the payload is not of the requested type.
 *
 * It emits PROVIDER_CONFIGURATION_CHANGED, with `flagsChanged`, whenever a definition changes.
 *
 * @example
 * ```ts
 * await OpenFeature.setProviderAndWait(new AppFlagsProvider(flags, { closeFlags: true }));
 * ```
 */
export class AppFlagsProvider implements Provider {
  readonly metadata: { readonly name: string };
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  private unsubscribe: Unsubscribe | undefined;

  constructor(
    private readonly flags: Flags,
    private readonly options: OpenFeatureProviderOptions = {},
  ) {
    this.metadata = { name: options.name ?? '@app/flags' };
  }

  async initialize(): Promise<void> {
    await this.flags.ready();
    this.unsubscribe ??= this.flags.onChange((change) => {
      this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: change.flags });
    });
  }

  async onClose(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.options.closeFlags) await this.flags.close();
  }

  async resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    const ev = this.flags.evaluate(flagKey, toFlagContext(context));
    if (ev.reason === 'ERROR') return this.error(ev, defaultValue);
    // OpenFeature: a disabled flag resolves to the caller's default, with reason DISABLED.
    if (ev.reason === 'DISABLED') return { value: defaultValue, reason: 'DISABLED' };
    return { value: ev.enabled, ...details(ev) };
  }

  async resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<string>> {
    return this.typed(flagKey, defaultValue, context, 'string');
  }

  async resolveNumberEvaluation(
    flagKey: string,
    defaultValue: number,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<number>> {
    return this.typed(flagKey, defaultValue, context, 'number');
  }

  async resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    return this.typed(flagKey, defaultValue, context, 'object');
  }

  private typed<T>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
    kind: Kind,
  ): ResolutionDetails<T> {
    const ev = this.flags.evaluate(flagKey, toFlagContext(context));
    if (ev.reason === 'ERROR') return this.error(ev, defaultValue);
    if (!ev.enabled) return { value: defaultValue, ...details(ev) };
    if (!ev.variant) {
      return {
        value: defaultValue,
        reason: 'ERROR',
        errorCode: ErrorCode.TYPE_MISMATCH,
        errorMessage: `flag "${flagKey}" has no variants: resolve it as a boolean`,
      };
    }
    const value =
      ev.variant.payload === undefined && kind === 'string' ? ev.variant.name : ev.variant.payload;
    if (!matches(kind, value)) {
      return {
        value: defaultValue,
        variant: ev.variant.name,
        reason: 'ERROR',
        errorCode: ErrorCode.TYPE_MISMATCH,
        errorMessage: `variant "${ev.variant.name}" of flag "${flagKey}" has a payload that is not a${kind === 'object' ? 'n' : ''} ${kind}`,
      };
    }
    return { value: value as T, ...details(ev) };
  }

  private error<T>(ev: Evaluation, defaultValue: T): ResolutionDetails<T> {
    return {
      value: defaultValue,
      reason: 'ERROR',
      errorCode: ErrorCode[ev.errorCode ?? 'GENERAL'],
      ...(ev.errorMessage ? { errorMessage: ev.errorMessage } : {}),
    };
  }
}

/**
 * Creates the OpenFeature server provider over your flags.
 *
 * @example
 * ```ts
 * import { OpenFeature } from '@openfeature/server-sdk';
 * import { createOpenFeatureProvider } from '@app/flags/openfeature';
 *
 * await OpenFeature.setProviderAndWait(createOpenFeatureProvider(flags));
 * const client = OpenFeature.getClient();
 * const on = await client.getBooleanValue('new-checkout', false, { targetingKey: 'u-42' });
 * ```
 */
export function createOpenFeatureProvider(
  flags: Flags,
  options?: OpenFeatureProviderOptions,
): AppFlagsProvider {
  return new AppFlagsProvider(flags, options);
}
