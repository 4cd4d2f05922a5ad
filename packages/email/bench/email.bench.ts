// Bulk send of 10,000 recipients against local fakes of SendGrid and SES v2 (real SDKs, real HTTP):
// @app/email's native batching versus the original guide's one-request-per-message Promise.all.
// Reported: HTTP requests made, most sockets open at once, and wall time (tinybench, same process).
// Run: pnpm --filter @app/email bench
import { globalAgent } from 'node:http';
import { recordBenchResults } from '@app/test-harness';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { MailService } from '@sendgrid/mail';
import { Bench } from 'tinybench';
import { sendgridProvider } from '../src/adapters/sendgrid.js';
import { sesProvider } from '../src/adapters/ses.js';
import { createEmailService } from '../src/service.js';
import { type FakeServer, startFakeSendgrid, startFakeSes } from '../src/test/fake-http.js';

const N = 10_000;
const LATENCY_MS = 10; // each fake answer waits this long, standing in for the network round trip
const from = 'news@example.com';
const subject = 'Spring news';
const html = '<h1>Spring news</h1><p>Hello {{name}}, here is what is new.</p>';
const recipients = Array.from({ length: N }, (_, i) => ({
  to: `user${i}@example.com`,
  data: { name: `User ${i}` },
}));

const sendgridFake = await startFakeSendgrid({ delayMs: LATENCY_MS });
const sesFake = await startFakeSes({ delayMs: LATENCY_MS });
const sesConfig = {
  region: 'us-east-1',
  endpoint: sesFake.url,
  credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'secret' },
};

type Outcome = { sent: number; failed: number };
type Scenario = {
  name: string;
  fake: FakeServer;
  run: () => Promise<Outcome>;
  cleanup?: () => Promise<void>;
};

// The guide's Promise.all rejects on the first failure; allSettled lets us count what failed instead.
async function settle(calls: Promise<unknown>[]): Promise<Outcome> {
  const results = await Promise.allSettled(calls);
  const failed = results.filter((r) => r.status === 'rejected').length;
  return { sent: results.length - failed, failed };
}

/** A guide scenario: one call per recipient, all at once, as the guide's sendBulk did. */
function perMessage(
  name: string,
  fake: FakeServer,
  send: (r: (typeof recipients)[number]) => Promise<unknown>,
  cleanup: () => Promise<void>,
): Scenario {
  return { name, fake, run: () => settle(recipients.map(send)), cleanup };
}

function ours(provider: 'sendgrid' | 'ses'): Scenario {
  const p =
    provider === 'sendgrid'
      ? sendgridProvider({ apiKey: 'SG.test-key', baseUrl: sendgridFake.url })
      : sesProvider({ clientConfig: sesConfig });
  const email = createEmailService({ providers: { [provider]: p }, defaultFrom: from });
  return {
    name: `@app/email sendBulk (${provider === 'sendgrid' ? 'personalizations, 1,000/request' : 'SendBulkEmail, 50/call'})`,
    fake: provider === 'sendgrid' ? sendgridFake : sesFake,
    run: async () => {
      const r = await email.sendBulk({ subject, html, recipients });
      return { sent: r.sent, failed: r.failed };
    },
    cleanup: () => email.close(),
  };
}

function guideSendgrid(): Scenario {
  // What the guide's sendBulk did: Promise.all over one sgMail.send per message, default client settings.
  const mail = new MailService();
  mail.setApiKey('SG.test-key');
  (
    mail as unknown as { client: { setDefaultRequest(k: string, v: unknown): void } }
  ).client.setDefaultRequest('baseUrl', sendgridFake.url);
  return perMessage(
    'guide: Promise.all(sgMail.send) per message',
    sendgridFake,
    (r) => mail.send({ from, to: r.to, subject, html: html.replace('{{name}}', r.data.name) }),
    async () => globalAgent.destroy(),
  );
}

function guideSes(): Scenario {
  // The guide's SES sendBulk, on the v3 SDK (the guide used v2): Promise.all over one SendEmail per message.
  const client = new SESv2Client(sesConfig);
  return perMessage(
    'guide: Promise.all(SendEmail) per message (SDK v3 defaults)',
    sesFake,
    (r) =>
      client.send(
        new SendEmailCommand({
          FromEmailAddress: from,
          Destination: { ToAddresses: [r.to] },
          Content: {
            Simple: {
              Subject: { Data: subject },
              Body: { Html: { Data: html.replace('{{name}}', r.data.name) } },
            },
          },
        }),
      ),
    async () => client.destroy(),
  );
}

const scenarios = [ours('sendgrid'), guideSendgrid(), ours('ses'), guideSes()];
const rows: Array<Record<string, string | number>> = [];
const bench = new Bench({ iterations: 3, warmup: false, time: 0, retainSamples: true });
const failedWhileTimed = new Map<string, number>();

for (const s of scenarios) {
  // One counted run first: requests and sockets are deterministic properties, not timings.
  s.fake.reset();
  const counted = await s.run();
  rows.push({
    scenario: s.name,
    sent: counted.sent,
    failed: counted.failed,
    'HTTP requests': s.fake.requests.length,
    'max sockets open': s.fake.maxOpenSockets,
    'max requests in flight': s.fake.maxInFlight,
  });
  bench.add(s.name, async () => {
    const { failed } = await s.run();
    failedWhileTimed.set(s.name, (failedWhileTimed.get(s.name) ?? 0) + failed);
  });
}
await bench.run();
for (const s of scenarios) await s.cleanup?.();
await Promise.all([sendgridFake.close(), sesFake.close()]);

const ms = (name: string) => {
  const result = bench.tasks.find((t) => t.name === name)?.result;
  return result && 'latency' in result ? result.latency.p50 : Number.NaN;
};
const pairs: Array<[string, string]> = [
  [scenarios[0]?.name ?? '', scenarios[1]?.name ?? ''],
  [scenarios[2]?.name ?? '', scenarios[3]?.name ?? ''],
];
for (const task of bench.tasks) {
  const result = task.result as { state?: string; error?: Error } | undefined;
  if (result?.error) console.log(`${task.name} failed during timing: ${result.error.message}`);
}
for (const row of rows) {
  row['wall time (median of 3)'] = `${ms(String(row.scenario)).toFixed(0)} ms`;
  row['failed while timed'] = failedWhileTimed.get(String(row.scenario)) ?? 0;
}
console.log(
  `Node ${process.version}, ${N.toLocaleString('en')} recipients, fake latency ${LATENCY_MS} ms per answer\n`,
);
console.table(rows);
for (const [a, b] of pairs) {
  console.log(`${b} / ${a}: ${(ms(b) / ms(a)).toFixed(1)}x the wall time`);
}

// Recorded for docs/benchmarks.md: per timed iteration, guide wall time / ours (above 1: ours is faster).
const samples = (name: string): number[] => {
  const result = bench.tasks.find((t) => t.name === name)?.result as { latency?: { samples?: number[] } };
  return result?.latency?.samples ?? [ms(name)];
};
const requestsOf = (name: string) => rows.find((r) => r.scenario === name)?.['HTTP requests'];
recordBenchResults(
  import.meta.dirname,
  '@app/email',
  pairs.map(([ours, guide]) => {
    const a = samples(ours);
    const b = samples(guide);
    return {
      measure: `${ours}, ${N.toLocaleString('en')} recipients`,
      anchor: guide,
      ratios: a.map((x, i) => Number(((b[i] ?? b[0] ?? Number.NaN) / x).toFixed(2))),
      note: `HTTP requests: ${requestsOf(ours)} vs ${requestsOf(guide)}; ratio = guide wall time / ours`,
    };
  }),
);
