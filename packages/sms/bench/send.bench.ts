// Per-message overhead of @app/sms over calling the Twilio SDK directly. Every variant uses the same real
// `twilio` client (same HTTP client and keep-alive agent) against a local node:http fake of the Messages API,
// so the ratios isolate what the provider (validation, error mapping) and the service (config read,
// router, status record, idempotency reservation) add. A memory-only pair shows the overhead without HTTP.
//
// Run: pnpm --filter @app/sms bench
import { recordBenchResults } from '@app/test-harness';
import { Bench } from 'tinybench';
import twilio from 'twilio';
import { startFakeTwilio } from '../src/__fixtures__/fake-twilio.js';
import { memorySmsProvider } from '../src/adapters/memory.js';
import { twilioHttpClient, twilioProvider } from '../src/adapters/twilio.js';
import { createSmsService } from '../src/service.js';

const TO = '+14155550123';
const FROM = '+14155550100';
const fake = await startFakeTwilio();
const httpClient = twilioHttpClient({ apiBaseUrl: fake.url });
const client = twilio(fake.accountSid, fake.authToken, { httpClient });
const provider = twilioProvider({ client, from: FROM });
const config = { get: async () => undefined, watch: () => () => {} };
const service = createSmsService({ providers: { twilio: provider }, config });
const outbox = memorySmsProvider({ maxMessages: 10 });
const memoryService = createSmsService({ providers: { memory: outbox }, config });
let key = 0;
let served = 0;
// The fake records every request; keep that list short so later tasks do not pay for earlier ones.
const trim = () => {
  served += fake.requests.length;
  fake.requests.length = 0;
};

const BODY = 'Your code is 123456';
// The anchor runs first and again later: the second run shows how much the machine drifted in between.
const anchor = async () => {
  await client.messages.create({ to: TO, from: FROM, body: BODY });
};
const bench = new Bench({ time: 3000, warmupTime: 500, setup: trim, teardown: trim });
bench
  .add('twilio SDK: client.messages.create (anchor)', anchor)
  .add('@app/sms twilioProvider.send', async () => {
    await provider.send(TO, BODY);
  })
  .add('@app/sms service.send (twilio)', async () => {
    await service.send(TO, BODY);
  })
  .add('@app/sms service.send (twilio, idempotencyKey)', async () => {
    await service.send(TO, BODY, { idempotencyKey: `k${key++}` });
  })
  .add('twilio SDK: client.messages.create (anchor, run again)', anchor)
  .add('memorySmsProvider.send (anchor, no HTTP)', async () => {
    await outbox.send(TO, BODY);
  })
  .add('@app/sms service.send (memory)', async () => {
    await memoryService.send(TO, BODY);
  });

await bench.run();

const rows = bench.tasks.map((task) => {
  const r = task.result as { latency?: { mean: number; rme: number } };
  const mean = r.latency?.mean ?? Number.NaN;
  return { name: task.name, mean, opsPerSec: 1000 / mean, rme: r.latency?.rme ?? 0 };
});
const byName = (prefix: string) => rows.find((r) => r.name.startsWith(prefix)) as (typeof rows)[number];
const httpAnchor = byName('twilio SDK');
const memAnchor = byName('memorySmsProvider');

console.log(`\nsends per second, one at a time (${served} requests served by the local fake)\n`);
console.log('| benchmark | sends/s | mean latency | ± | vs anchor |');
console.log('|---|---:|---:|---:|---:|');
for (const row of rows) {
  const anchor = row.name.includes('memory') ? memAnchor : httpAnchor;
  console.log(
    `| ${row.name} | ${row.opsPerSec.toFixed(0)} | ${(row.mean * 1000).toFixed(1)} µs | ${row.rme.toFixed(1)}% | ${(anchor.mean / row.mean).toFixed(2)}x |`,
  );
}
console.log(
  `\nadded per send over the SDK: provider ${((byName('@app/sms twilioProvider').mean - httpAnchor.mean) * 1000).toFixed(1)} µs, service ${((byName('@app/sms service.send (twilio)').mean - httpAnchor.mean) * 1000).toFixed(1)} µs`,
);

// Recorded for docs/benchmarks.md: anchor latency / ours (above 1: faster than the anchor).
recordBenchResults(
  import.meta.dirname,
  '@app/sms',
  rows
    .filter((row) => !row.name.includes('anchor'))
    .map((row) => {
      const anchor = row.name.includes('memory') ? memAnchor : httpAnchor;
      return {
        measure: row.name,
        anchor: anchor.name,
        ratios: [Number((anchor.mean / row.mean).toFixed(3))],
        note: `one send at a time; ${(row.mean * 1000).toFixed(1)} µs mean (±${row.rme.toFixed(1)}%)`,
      };
    }),
);

await Promise.all([service.close(), memoryService.close()]);
httpClient.destroy();
await fake.close();
