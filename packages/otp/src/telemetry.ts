// OTP as OpenTelemetry sees it: a span per send and per verify with the purpose and the outcome (never a
// code, a destination or an IP), and a count of outcomes per purpose. Built only when somebody listens.
// Attributes are named `app.otp_service.*`, not `app.otp.*`: @app/core's scrubber drops every attribute key
// with an `otp` segment (it may name a passcode), which is the guard we want to keep.
import { createTelemetry, type TelemetrySetting, type TelemetrySpan } from '@app/core';

/** What a send or a verify came to, as recorded in `app.otp.outcome`. */
export type OtpOutcome = 'sent' | 'rate_limited' | 'delivery_failed' | 'verified' | 'failed' | 'locked';

/** The service's telemetry: spans around send and verify, and `record` for their outcome. */
export function otpTelemetry(setting: TelemetrySetting | undefined) {
  const telemetry = createTelemetry('@app/otp', setting);
  const outcomes = telemetry.counter('app.otp.outcomes', {
    unit: '{outcome}',
    description: 'OTP sends and verifies, by operation, purpose and outcome.',
  });
  return {
    /** Runs `fn` in span `otp.<operation>` when somebody listens; else runs it as is. */
    span<T>(operation: 'send' | 'verify', fn: (span: TelemetrySpan | undefined) => Promise<T>): Promise<T> {
      return telemetry.withSpan(`otp.${operation}`, undefined, fn);
    },
    /** Records an outcome on the span (when there is one) and in `app.otp.outcomes` (when metered). */
    record(
      span: TelemetrySpan | undefined,
      operation: 'send' | 'verify',
      purpose: string,
      outcome: OtpOutcome,
      reason?: string,
    ): void {
      if (!telemetry.enabled()) return;
      const attributes = {
        'app.otp_service.operation': operation,
        'app.otp_service.purpose': purpose,
        'app.otp_service.outcome': outcome,
      };
      span?.setAttributes(
        reason === undefined ? attributes : { ...attributes, 'app.otp_service.reason': reason },
      );
      outcomes.add(1, attributes);
    },
  };
}
