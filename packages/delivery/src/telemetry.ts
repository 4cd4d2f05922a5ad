import { createTelemetry, errorType, type Telemetry, type TelemetrySetting } from '@app/core';
import { httpStatusOf } from './failures.js';

/** The class of an HTTP status (`5xx`, `4xx`...), or undefined when the error carries none. */
function statusClass(error: unknown): string | undefined {
  const status = httpStatusOf(error);
  return status === undefined ? undefined : `${Math.floor(status / 100)}xx`;
}

/** The instruments of one channel: a span per send, one child per provider attempt, and two metrics. */
export interface DeliveryTelemetry {
  /** Runs one send (the router's whole run) in its span; `attempt` wraps each provider call in a child. */
  send<T>(fn: (attempt: AttemptWrapper) => Promise<T>): Promise<T>;
}

/** Wraps one provider attempt: its span, its duration, its outcome. */
export type AttemptWrapper = <T>(provider: string, call: () => Promise<T>) => Promise<T>;

const direct: AttemptWrapper = (_provider, call) => call();

/**
 * The telemetry of a delivery channel, once in the kernel for every provider: a `<channel>.send` span per
 * send with one `<channel>.attempt` child per provider attempt (`app.delivery.provider`,
 * `app.delivery.attempt` — the retry number on that provider —, `app.delivery.failover`,
 * `http.response.status_class`, `error.type`), never an address, a number or a body; the counter
 * `app.delivery.sends` (by channel, provider and outcome) and the histogram `app.delivery.attempt.duration`
 * (seconds). With no SDK (or `telemetry: false`) a send runs as it is: no span, no clock read, no wrapper.
 */
export function deliveryTelemetry(channel: string, setting: TelemetrySetting | undefined): DeliveryTelemetry {
  const telemetry: Telemetry = createTelemetry(`@app/${channel}`, setting);
  const sends = telemetry.counter('app.delivery.sends', { description: 'Sends, by provider and outcome' });
  const duration = telemetry.histogram('app.delivery.attempt.duration', {
    description: 'Duration of one provider attempt',
    unit: 's',
  });
  return {
    send(fn) {
      if (!telemetry.enabled()) return fn(direct);
      return telemetry.withSpan(`${channel}.send`, { 'app.delivery.channel': channel }, async (span) => {
        const tries = new Map<string, number>();
        let first: string | undefined;
        let last = '';
        const attempt: AttemptWrapper = (provider, call) => {
          first ??= provider;
          last = provider;
          const retry = tries.get(provider) ?? 0;
          tries.set(provider, retry + 1);
          const attributes = {
            'app.delivery.channel': channel,
            'app.delivery.provider': provider,
            'app.delivery.attempt': retry,
            'app.delivery.failover': provider !== first,
          };
          const started = performance.now();
          const done = (outcome: 'sent' | 'failed') =>
            duration.record((performance.now() - started) / 1000, () => ({
              'app.delivery.channel': channel,
              'app.delivery.provider': provider,
              'app.delivery.outcome': outcome,
            }));
          return telemetry.withSpan(
            `${channel}.attempt`,
            attributes,
            async (child) => {
              try {
                const value = await call();
                done('sent');
                return value;
              } catch (error) {
                done('failed');
                const cls = statusClass(error);
                if (cls) child?.setAttributes({ 'http.response.status_class': cls });
                throw error;
              }
            },
            { kind: 'client' },
          );
        };
        try {
          const value = await fn(attempt);
          sends.add(1, {
            'app.delivery.channel': channel,
            'app.delivery.provider': last,
            'app.delivery.outcome': 'sent',
          });
          span?.setAttributes({
            'app.delivery.provider': last,
            'app.delivery.attempts': [...tries.values()].reduce((a, b) => a + b, 0),
          });
          return value;
        } catch (error) {
          sends.add(1, () => ({
            'app.delivery.channel': channel,
            'app.delivery.provider': last,
            'app.delivery.outcome': 'failed',
            'error.type': errorType(error),
          }));
          throw error;
        }
      });
    },
  };
}
