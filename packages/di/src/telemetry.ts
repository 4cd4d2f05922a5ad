// What DI tells OpenTelemetry: a span per async factory or config-bound creation and per rebuild, with
// the token's name and the outcome, and counts and durations of creations. Free when nobody listens.
import { createTelemetry, errorType, type TelemetryAttributes, type TelemetrySetting } from '@app/core';
import type { Registration } from './model.js';

/** How a creation or rebuild ended, in the `app.di.outcome` / `app.di.rebuild.outcome` attributes. */
type Outcome = 'success' | 'error';
type RebuildOutcome = 'replaced' | 'unchanged' | 'failed';

export interface DiTelemetry {
  /** Whether anybody listens: when not, callers skip `create` (and its closure) altogether. */
  enabled(): boolean;
  /** Runs an async factory (or a config-bound build) inside an `app.di.create <token>` span. */
  create<T>(reg: Registration, build: () => Promise<T>): Promise<T>;
  /**
   * Runs a rebuild's build inside an `app.di.rebuild <token>` span; `changed(result)` tells whether it
   * replaced the instance (a config-bound rebuild whose value did not change keeps it).
   */
  rebuild<T>(
    reg: Registration,
    trigger: 'invalidate' | 'config_change',
    build: () => Promise<T>,
    changed: (result: T) => boolean,
  ): Promise<T>;
}

function base(reg: Registration): TelemetryAttributes {
  return { 'app.di.token_name': reg.name, 'app.di.provider': reg.kind, 'app.di.lifetime': reg.lifetime };
}

export function diTelemetry(setting: TelemetrySetting | undefined): DiTelemetry {
  const telemetry = createTelemetry('@app/di', setting);
  const creations = telemetry.counter('app.di.creations', {
    unit: '{creation}',
    description: 'Instances created by async and config-bound factories, by token and outcome.',
  });
  const duration = telemetry.histogram('app.di.creation.duration', {
    unit: 's',
    description: 'How long async and config-bound creations took, by token and outcome.',
  });
  const rebuilds = telemetry.counter('app.di.rebuilds', {
    unit: '{rebuild}',
    description: 'Rebuilds of cached instances (config changes and invalidate()), by token and outcome.',
  });

  const measured = <T>(reg: Registration, promise: Promise<T>): Promise<T> => {
    if (!telemetry.metering()) return promise;
    const start = performance.now();
    const done = (outcome: Outcome, error?: unknown) => {
      const attributes = () => {
        const a = base(reg);
        a['app.di.outcome'] = outcome;
        if (error !== undefined) a['error.type'] = errorType(error);
        return a;
      };
      creations.add(1, attributes);
      duration.record((performance.now() - start) / 1000, attributes);
    };
    return promise.then(
      (value) => {
        done('success');
        return value;
      },
      (error: unknown) => {
        done('error', error);
        throw error;
      },
    );
  };

  return {
    enabled: () => telemetry.enabled(),
    create(reg, build) {
      if (!telemetry.enabled()) return build();
      return measured(
        reg,
        telemetry.withSpan(`app.di.create ${reg.name}`, () => base(reg), build),
      );
    },
    rebuild(reg, trigger, build, changed) {
      if (!telemetry.enabled()) return build();
      const record = (outcome: RebuildOutcome) =>
        rebuilds.add(1, () => ({
          'app.di.token_name': reg.name,
          'app.di.rebuild.trigger': trigger,
          'app.di.rebuild.outcome': outcome,
        }));
      return telemetry.withSpan(
        `app.di.rebuild ${reg.name}`,
        () => ({ ...base(reg), 'app.di.rebuild.trigger': trigger }),
        (span) =>
          build().then(
            (result) => {
              const outcome = changed(result) ? 'replaced' : 'unchanged';
              span?.setAttributes({ 'app.di.rebuild.outcome': outcome });
              record(outcome);
              return result;
            },
            (error: unknown) => {
              span?.setAttributes({ 'app.di.rebuild.outcome': 'failed' });
              record('failed');
              throw error;
            },
          ),
      );
    },
  };
}
