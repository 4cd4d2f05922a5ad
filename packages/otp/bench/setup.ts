// The setup the OTP benches share: a service with the send limits lifted (the benches guess wrong on purpose,
// many times, and send many codes), and a pool of live challenges to spread wrong guesses over.
import { createOtpService, type OtpService, type OtpServiceOptions, type OtpStore } from '../src/index.js';

/** A service over `store` whose limits never stop a bench; guesses stay under `maxAttempts` (100) by
 * rotating over a pool of challenges ({@link sendPool}). */
export function benchOtp(store: OtpStore, extra: Partial<OtpServiceOptions> = {}): OtpService {
  return createOtpService({
    store,
    secret: 'benchmark-secret-benchmark-secret-0123456789',
    channels: { sms: { deliver: async () => {} } },
    maxAttempts: 100,
    resendCooldownMs: 0,
    destinationLimit: { max: 1_000_000_000, windowMs: 3_600_000 },
    ...extra,
  });
}

/** The phone number of the pool's challenge `i`. */
export const poolPhone = (i: number): string => `+1650${String(1_000_000 + i).padStart(7, '0')}`;

/** Sends a code to each of `pool` numbers, `chunk` at a time. */
export async function sendPool(otp: OtpService, pool: number, chunk: number): Promise<void> {
  for (let i = 0; i < pool; i += chunk) {
    await Promise.all(
      Array.from({ length: Math.min(chunk, pool - i) }, (_, j) =>
        otp.send({ to: poolPhone(i + j), channel: 'sms', purpose: 'login' }),
      ),
    );
  }
}
