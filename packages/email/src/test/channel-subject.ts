import type { IdempotencyStore } from '@app/delivery';
import type { ChannelSubject } from '@app/delivery/testing';
import { memoryEmailProvider } from '../adapters/memory.js';
import { EmailErrorCode, isEmailError } from '../errors.js';
import { createEmailService } from '../service.js';

/** The email service on `store`, as `@app/delivery`'s channel idempotency contract drives it. */
export function emailSubject(store: IdempotencyStore): ChannelSubject {
  const memory = memoryEmailProvider();
  const email = createEmailService({
    providers: { memory },
    defaultFrom: 'a@example.com',
    retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 1 },
    idempotency: { store, pollMs: 5 },
  });
  return {
    send: (key, variant = 0) =>
      email.send({ to: 'ada@example.com', subject: 'Hi', text: `Hello ${variant}` }, { idempotencyKey: key }),
    failNext: () => memory.failNext('transient'),
    sent: () => memory.messages().length,
    isConflict: (e) => isEmailError(e, EmailErrorCode.IDEMPOTENCY_CONFLICT),
    close: () => email.close(),
  };
}
