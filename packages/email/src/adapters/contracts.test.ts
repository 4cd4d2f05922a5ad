import { channelIdempotencyContract } from '@app/delivery/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { emailSubject } from '../test/channel-subject.js';
import { startFakeSendgrid, startFakeSes } from '../test/fake-http.js';
import { emailProviderContract, statusStoreContract } from '../testing.js';
import type { EmailProvider } from '../types.js';
import { memoryEmailProvider, memoryEmailStatusStore, memoryIdempotencyStore } from './memory.js';
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

statusStoreContract({ ...t, name: 'memoryEmailStatusStore', create: () => memoryEmailStatusStore() });
channelIdempotencyContract({
  ...t,
  name: 'email on memory',
  create: () => emailSubject(memoryIdempotencyStore()),
});
// The memory provider's outbox is its storage: the probe reads the last one created.
let memory = memoryEmailProvider();
emailProviderContract({
  ...t,
  name: 'memory',
  create: () => {
    memory = memoryEmailProvider();
    return { provider: memory };
  },
  inspect: async () => memory.messages().map((m) => JSON.stringify(m)),
});
emailProviderContract({
  ...t,
  name: 'sendgrid (local fake)',
  create: () => subject(sendgrid()),
  inspect: async () => sendgridFake.requests.map((r) => r.body),
});
emailProviderContract({
  ...t,
  name: 'ses (local fake)',
  create: () => subject(ses()),
  inspect: async () => sesFake.requests.map((r) => r.body),
});
