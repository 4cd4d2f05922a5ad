import { afterAll, describe, expect, it } from 'vitest';
import { startFakeSendgrid, startFakeSes } from '../test/fake-http.js';
import { emailProviderContract, emailStatusStoreContract } from '../testing.js';
import type { EmailProvider } from '../types.js';
import { memoryEmailProvider, memoryEmailStatusStore } from './memory.js';
import { sendgridProvider } from './sendgrid.js';
import { sesProvider } from './ses.js';

const t = { describe, it, expect };
const sendgridFake = await startFakeSendgrid();
const sesFake = await startFakeSes();
const sendgrid = () => sendgridProvider({ apiKey: 'SG.test-key', baseUrl: sendgridFake.url });
const ses = () =>
  sesProvider({
    clientConfig: {
      region: 'us-east-1',
      endpoint: sesFake.url,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    },
  });
/** A fresh provider per test, closed after it. */
const subject = (provider: EmailProvider) => ({ provider, cleanup: async () => provider.close?.() });
afterAll(async () => {
  await Promise.all([sendgridFake.close(), sesFake.close()]);
});

emailStatusStoreContract({ ...t, name: 'memory', create: () => memoryEmailStatusStore() });
emailProviderContract({ ...t, name: 'memory', create: () => ({ provider: memoryEmailProvider() }) });
emailProviderContract({ ...t, name: 'sendgrid (local fake)', create: () => subject(sendgrid()) });
emailProviderContract({ ...t, name: 'ses (local fake)', create: () => subject(ses()) });
