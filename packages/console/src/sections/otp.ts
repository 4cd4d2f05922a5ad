import type { Section } from '../http.js';
import type { ConsoleEvent } from '../types.js';
import { RateCounter } from './events.js';

const KINDS = {
  'otp.sent': 'sent',
  'otp.verified': 'verified',
  'otp.failed': 'failed',
  'otp.locked': 'locked',
} as const;
type Kind = (typeof KINDS)[keyof typeof KINDS];
const BUCKETS = 30;

/**
 * The OTP section: sends, verifies, failures and lockouts per purpose over time, counted from the `otp.*`
 * events. Only the purpose and the event kind are kept: never a code, a destination or its hash.
 */
export function otpSection(
  now: () => number,
  bucketMs = 60_000,
): Section & { observe(event: ConsoleEvent): void } {
  const counter = new RateCounter(now, bucketMs, BUCKETS);
  const totals = new Map<string, Record<Kind, number>>();
  let notify: ((data: unknown) => void) | undefined;
  return {
    name: 'otp',
    routes: [
      {
        method: 'GET',
        path: '',
        handle: async () => ({
          bucketMs,
          purposes: [...totals.keys()].sort().map((purpose) => ({
            purpose,
            totals: totals.get(purpose),
            series: Object.fromEntries(
              Object.values(KINDS).map((kind) => [kind, counter.series(`${purpose}\u0000${kind}`)]),
            ),
          })),
        }),
      },
    ],
    async start(send) {
      notify = send;
    },
    observe(event) {
      const kind = KINDS[event.name as keyof typeof KINDS];
      if (!kind) return;
      const purpose = (event.data as { purpose?: unknown } | null)?.purpose;
      if (typeof purpose !== 'string' || purpose.length === 0 || purpose.length > 64) return;
      counter.add(`${purpose}\u0000${kind}`, event.timestamp || now());
      let total = totals.get(purpose);
      if (!total) {
        total = { sent: 0, verified: 0, failed: 0, locked: 0 };
        totals.set(purpose, total);
      }
      total[kind] += 1;
      notify?.({ purpose });
    },
  };
}
