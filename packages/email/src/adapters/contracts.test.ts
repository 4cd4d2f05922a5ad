import { afterAll, describe, expect, it } from 'vitest';
import { startFakeSendgrid, startFakeSes } from '../test/fake-http.js';
import { emailProviderContract, idempotencyStoreContract, statusStoreContract } from '../testing.js';
import { memoryIdempotencyStore, memoryProvider, memoryStatusStore } from './memory.js';
import { sendgridProvider } from './sendgrid.js';
import { sesProvider } from './ses.js';

const t = { describe, it, expect };
const sendgridFake = await startFakeSendgrid();
const sesFake = await startFakeSes();
const sendgrid = sendgridProvider({ apiKey: 'SG.test-key', baseUrl: sendgridFake.url });
const ses = sesProvider({
  clientConfig: {
    region: 'us-east-1',
    endpoint: sesFake.url,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  },
});
afterAll(async () => {
  await Promise.all([sendgrid.close?.(), ses.close?.()]);
  await Promise.all([sendgridFake.close(), sesFake.close()]);
});

statusStoreContract(t, { name: 'memory', create: () => memoryStatusStore() });
idempotencyStoreContract(t, { name: 'memory', create: () => memoryIdempotencyStore() });
emailProviderContract(t, { name: 'memory', create: () => ({ provider: memoryProvider() }) });
emailProviderContract(t, { name: 'sendgrid (local fake)', create: () => ({ provider: sendgrid }) });
emailProviderContract(t, { name: 'ses (local fake)', create: () => ({ provider: ses }) });
