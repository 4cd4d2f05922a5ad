import type { Telemetry } from './telemetry.js';

/**
 * `telemetry.enabled()` for a hot path (a check, a flag evaluation): while nobody listens it asks once every
 * `every` calls, so a quiet call costs a countdown and an SDK registered later is seen within `every` calls;
 * while somebody listens it asks on every call, so a provider removed is followed at once.
 *
 * @example
 * ```ts
 * const listening = quietListener(createTelemetry('@app/flags', options.telemetry));
 * if (listening()) telemetry.addEvent('feature_flag.evaluation', attributes);
 * ```
 */
export function quietListener(telemetry: Pick<Telemetry, 'enabled'>, every = 64): () => boolean {
  let quiet = 0;
  return () => {
    if (quiet > 0) {
      quiet--;
      return false;
    }
    if (telemetry.enabled()) return true;
    quiet = every;
    return false;
  };
}
