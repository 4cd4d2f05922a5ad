import type { Evaluation, FlagContext, VariantResult } from '@app/flags';
import { RATE_BUCKET_MS, RateCounter } from './sections/events.js';
import type { ConsoleFlags } from './types.js';

/** What {@link countEvaluations} adds to a `Flags`: recent evaluations per variant. */
export interface EvaluationCounts {
  /** How many evaluations of `flag` served each variant (or `on` / `off` without variants) in the window. */
  recentEvaluations(flag: string): Record<string, number>;
}

/** The evaluation methods of `@app/flags`' `Flags` that {@link countEvaluations} counts. */
interface Evaluating extends ConsoleFlags {
  isEnabled(flag: string, context?: FlagContext): boolean;
  getVariant(flag: string, context?: FlagContext): VariantResult;
  evaluateAll(context?: FlagContext): Record<string, Evaluation>;
}

// Wrapper -> the flags it wraps, so the console's own evaluations are not counted as the app's.
const wrapped = new WeakMap<object, ConsoleFlags>();

/** The flags behind a {@link countEvaluations} wrapper (the same object when not wrapped). */
export function uncounted(flags: ConsoleFlags): ConsoleFlags {
  return wrapped.get(flags) ?? flags;
}

const DISABLED: VariantResult = Object.freeze({ name: 'disabled', enabled: false });

/**
 * Wraps the app's `Flags` so that its evaluations are counted per flag and variant over the last five
 * minutes (in this process, in memory: a counter increment per evaluation). Evaluate through the wrapper and
 * give it to the console: the flags section then charts the share of recent evaluations per variant.
 *
 * @example
 * ```ts
 * const flags = countEvaluations(createFlags({ source: config }));
 * flags.isEnabled('new-checkout', { userId }); // counted
 * const console = createConsole({ authorize, flags, config });
 * ```
 */
export function countEvaluations<F extends Evaluating>(flags: F, windowMs = 300_000): F & EvaluationCounts {
  const buckets = Math.max(1, Math.ceil(windowMs / RATE_BUCKET_MS));
  const counter = new RateCounter(Date.now, RATE_BUCKET_MS, buckets);
  const seen = new Map<string, Set<string>>();
  const note = (evaluation: Evaluation): Evaluation => {
    const served = evaluation.variant?.enabled ? evaluation.variant.name : evaluation.enabled ? 'on' : 'off';
    let names = seen.get(evaluation.flag);
    if (!names) {
      names = new Set();
      seen.set(evaluation.flag, names);
    }
    names.add(served);
    counter.add(`${evaluation.flag}\u0000${served}`);
    return evaluation;
  };
  const counting: Evaluating & EvaluationCounts = Object.create(flags);
  counting.evaluate = (flag, context) => note(flags.evaluate(flag, context));
  counting.isEnabled = (flag, context) => note(flags.evaluate(flag, context)).enabled;
  counting.getVariant = (flag, context) => note(flags.evaluate(flag, context)).variant ?? DISABLED;
  counting.evaluateAll = (context) => {
    const all = flags.evaluateAll(context);
    for (const evaluation of Object.values(all)) note(evaluation);
    return all;
  };
  counting.recentEvaluations = (flag) => {
    const out: Record<string, number> = {};
    for (const name of seen.get(flag) ?? []) {
      const total = counter.series(`${flag}\u0000${name}`).reduce((a, b) => a + b, 0);
      if (total > 0) out[name] = total;
    }
    return out;
  };
  wrapped.set(counting, flags);
  return counting as F & EvaluationCounts;
}
