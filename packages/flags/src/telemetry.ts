// Flag evaluations as OpenTelemetry sees them: a `feature_flag.evaluation` event on the active span and a
// count by key, variant and reason, with the attribute names of the feature-flag semantic conventions
// (those OpenFeature uses). Built only when somebody listens.
import {
  createTelemetry,
  quietListener,
  type Telemetry,
  type TelemetryAttributes,
  type TelemetrySetting,
} from '@app/core';
import type { Evaluation, EvaluationReason } from './types.js';

/** The `feature_flag.provider.name` of every evaluation this package records. */
export const FLAGS_PROVIDER_NAME = '@app/flags';

// The semantic conventions' `feature_flag.result.reason` values.
const REASON: Record<EvaluationReason, string> = {
  DISABLED: 'disabled',
  TARGETING_MATCH: 'targeting_match',
  SPLIT: 'split',
  DEFAULT: 'default',
  ERROR: 'error',
};

/** The variant as the conventions want it: the variant's name, else `on`/`off` for a boolean flag. */
function variantOf(e: Evaluation): string {
  return e.variant?.name ?? (e.enabled ? 'on' : 'off');
}

function metricAttributes(e: Evaluation): TelemetryAttributes {
  const attributes: TelemetryAttributes = {
    'feature_flag.key': e.flag,
    'feature_flag.result.variant': variantOf(e),
    'feature_flag.result.reason': REASON[e.reason],
  };
  if (e.errorCode !== undefined) attributes['error.type'] = e.errorCode.toLowerCase();
  return attributes;
}

function eventAttributes(e: Evaluation): TelemetryAttributes {
  const attributes = metricAttributes(e);
  attributes['feature_flag.provider.name'] = FLAGS_PROVIDER_NAME;
  if (e.errorMessage !== undefined) attributes['error.message'] = e.errorMessage;
  return attributes;
}

/**
 * Records evaluations; `record(e)` returns `e`. `listening()` says whether an evaluation is recorded: while
 * nobody listens it looks at the OpenTelemetry globals once every 64 evaluations ({@link quietListener}; an
 * SDK registered later is seen within that many), so a quiet evaluation costs a countdown.
 */
export function flagsTelemetry(setting: TelemetrySetting | undefined): {
  telemetry: Telemetry;
  listening(): boolean;
  record(e: Evaluation): Evaluation;
} {
  const telemetry = createTelemetry('@app/flags', setting);
  // Tallied in process, read when the SDK collects: an evaluation is a hot path, and a synchronous counter's
  // add (the SDK finding the attribute set's accumulator) cost more than the evaluation itself.
  const evaluations = telemetry.tally('app.flags.evaluations', {
    unit: '{evaluation}',
    description: 'Feature flag evaluations, by flag key, variant and reason.',
  });
  const listening = quietListener(telemetry);
  return {
    telemetry,
    listening,
    record(e) {
      if (!listening()) return e;
      telemetry.addEvent('feature_flag.evaluation', () => eventAttributes(e));
      evaluations.add(`${e.flag}\u0000${variantOf(e)}\u0000${e.reason}\u0000${e.errorCode ?? ''}`, () =>
        metricAttributes(e),
      );
      return e;
    },
  };
}
