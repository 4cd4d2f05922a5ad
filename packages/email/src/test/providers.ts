// Shared setup of the adapter tests: both HTTP fakes, a provider on each, reset before every test and
// closed after the file; and the one fully featured message the adapters' request tests send.
import { afterAll, beforeEach } from 'vitest';
import { sendgridProvider } from '../adapters/sendgrid.js';
import { sesProvider } from '../adapters/ses.js';
import { startFakeSendgrid, startFakeSes } from './fake-http.js';

/**
 * Starts the SendGrid and SES fakes and a provider on each (SendGrid's with `sendgridTimeoutMs`); every
 * test starts from empty fakes, and the file closes providers then fakes.
 */
export async function fakeSendgridAndSes(sendgridTimeoutMs: number) {
  const sgFake = await startFakeSendgrid();
  const sesFake = await startFakeSes();
  const sendgrid = sendgridProvider({
    apiKey: 'SG.test-key',
    baseUrl: sgFake.url,
    timeoutMs: sendgridTimeoutMs,
  });
  const ses = sesProvider({
    clientConfig: {
      region: 'us-east-1',
      endpoint: sesFake.url,
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    },
  });
  beforeEach(() => {
    sgFake.reset();
    sesFake.reset();
  });
  afterAll(async () => {
    await Promise.all([sendgrid.close?.(), ses.close?.()]);
    await sgFake.close();
    await sesFake.close();
  });
  return { sgFake, sesFake, sendgrid, ses };
}

/** Every optional part of a message (Cc, Reply-To, html, a header, a tag, an attachment), for request tests. */
export const fullMessage = {
  cc: 'cc@example.com',
  replyTo: 'support@example.com',
  subject: 'Welcome',
  text: 'Hello',
  html: '<p>Hello</p>',
  headers: { 'X-Campaign': 'spring' },
  tags: { tenant: 'acme' },
  attachments: [{ filename: 'a.txt', content: 'hi', contentType: 'text/plain' }],
};
