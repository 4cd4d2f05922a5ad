// Test helper: signs in by code the way a user does (ask for a code, read it from the SMS outbox, type it).
import type { AppServices } from './services.js';

export async function signIn(app: AppServices, phone: string) {
  const { challengeId } = await app.auth.sendCode(phone);
  const code = app
    .smsOutbox()
    .find((m) => m.to === phone)
    ?.body.match(/\b\d{6}\b/)?.[0];
  const result = await app.auth.verifyCode(phone, code ?? '', challengeId);
  if (!result.ok) throw new Error(`sign-in failed: ${result.reason}`);
  return result;
}
