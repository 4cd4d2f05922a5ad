/**
 * @app/otp on Redis: commands per send and per verify (counted with MONITOR on a private redis-server),
 * and verify throughput against the floor for any Redis-backed verify: a raw EVALSHA of a trivial script,
 * on the same client and server in the same run. Run: pnpm --filter @app/otp bench
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { Bench } from 'tinybench';
import { redisOtpStore, VERIFY_SCRIPT } from '../src/adapters/redis.js';
import { createOtpService } from '../src/index.js';
import { startRedis } from './redis-server.js';
import { benchOtp, poolPhone, sendPool } from './setup.js';

const BATCH = 64;

const { url, stop } = await startRedis();
const client = new Redis(url);
const monitorClient = new Redis(url);
try {
  // The bench guesses wrong on purpose, many times, and sends many codes: lift the send limits. Guesses stay
  // under the (capped) attempt limit by spreading them over a pool of challenges, below.
  const otp = benchOtp(redisOtpStore({ client, keyPrefix: 'bench:' }));
  const TO = '+14155550123';
  await otp.send({ to: TO, channel: 'sms', purpose: 'login' });
  // Wrong guesses rotate over 10,000 live challenges, so none reaches maxAttempts (100) during the run and
  // every measured verify takes the "wrong code, count the attempt" path.
  const POOL = 10_000;
  await sendPool(otp, POOL, 500);
  let guess = 0;
  const wrongVerify = () => otp.verify({ to: poolPhone(guess++ % POOL), code: '000000', purpose: 'login' });
  await wrongVerify();
  let sendSeq = 0;
  const nextPhone = () => `+1415${String(2_000_000 + (sendSeq++ % 5_000_000)).padStart(7, '0')}`;

  // --- commands per operation, counted by the server -------------------------------------------------
  const monitor = await monitorClient.monitor();
  const seen: { command: string; fromLua: boolean }[] = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    seen.push({ command: String(args[0]).toLowerCase(), fromLua: source === 'lua' });
  });
  const count = async (label: string, n: number, op: () => Promise<unknown>) => {
    await new Promise((r) => setTimeout(r, 100));
    seen.length = 0;
    for (let i = 0; i < n; i++) await op();
    await new Promise((r) => setTimeout(r, 200));
    const client = seen.filter((s) => !s.fromLua);
    const byName: Record<string, number> = {};
    for (const s of client) byName[s.command] = (byName[s.command] ?? 0) + 1;
    return {
      operation: label,
      'client commands / op': client.length / n,
      'commands inside the script / op': (seen.length - client.length) / n,
      commands: Object.entries(byName)
        .map(([k, v]) => `${k} x${v / n}`)
        .join(', '),
    };
  };
  const counts = [
    await count('verify (wrong code)', 200, () => wrongVerify()),
    await count('verify (unknown destination)', 200, () =>
      otp.verify({ to: '+14155550999', code: '000000', purpose: 'login' }),
    ),
    await count('send (sms, no-op channel)', 200, () =>
      otp.send({ to: nextPhone(), channel: 'sms', purpose: 'login' }),
    ),
    await count('send + verify (right code)', 200, async () => {
      let code = '';
      const svc = createOtpService({
        store: redisOtpStore({ client, keyPrefix: 'bench:' }),
        secret: 'benchmark-secret-benchmark-secret-0123456789',
        channels: {
          sms: {
            deliver: async (d) => {
              code = d.code;
            },
          },
        },
      });
      const to = nextPhone();
      await svc.send({ to, channel: 'sms', purpose: 'login' });
      await svc.verify({ to, code, purpose: 'login' });
    }),
  ];
  monitor.disconnect();
  console.log('\nRedis commands per operation (MONITOR on a private redis-server)');
  console.table(counts);

  // --- throughput ---------------------------------------------------------------------------------------
  // The machine is shared, so load drifts during the run: the tasks run in ROUNDS interleaved rounds and the
  // ratios reported are the medians of the per-round ratios.
  const trivial = 'return 1';
  const trivialSha = createHash('sha1').update(trivial).digest('hex');
  await client.script('LOAD', trivial);
  const verifySha = createHash('sha1').update(VERIFY_SCRIPT).digest('hex');
  await client.hset('bench:raw', 'id', 'x', 'h', 'a'.repeat(64), 'a', 0, 'm', 1e9, 'e', 9e12);
  const wrongHash = 'b'.repeat(64);
  const tasks: [string, () => Promise<unknown>][] = [
    ['raw EVALSHA `return 1` (anchor)', () => client.evalsha(trivialSha, 1, 'bench:anchor')],
    ['otp.verify, wrong code', () => wrongVerify()],
    [
      'raw EVALSHA of the verify script (no service)',
      () => client.evalsha(verifySha, 2, 'bench:raw', 'bench:decoy', Date.now(), wrongHash, ''),
    ],
    ['otp.send, no-op channel', () => otp.send({ to: nextPhone(), channel: 'sms', purpose: 'login' })],
    [
      `raw EVALSHA \`return 1\` x${BATCH} concurrent (anchor)`,
      () => Promise.all(Array.from({ length: BATCH }, () => client.evalsha(trivialSha, 1, 'bench:anchor'))),
    ],
    [
      `raw EVALSHA of the verify script x${BATCH} concurrent (no service)`,
      () =>
        Promise.all(
          Array.from({ length: BATCH }, () =>
            client.evalsha(verifySha, 2, 'bench:raw', 'bench:decoy', Date.now(), wrongHash, ''),
          ),
        ),
    ],
    [
      `otp.verify x${BATCH} concurrent`,
      () => Promise.all(Array.from({ length: BATCH }, () => wrongVerify())),
    ],
  ];
  const ROUNDS = 3;
  const perRound: Record<string, number>[] = [];
  const p50: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ time: 1000, warmupTime: 200 });
    for (const [name, fn] of tasks) bench.add(name, fn);
    await bench.run();
    const rates: Record<string, number> = {};
    for (const task of bench.tasks) {
      const r = task.result;
      if (!r || !('throughput' in r)) throw new Error(`task ${task.name} did not complete`);
      rates[task.name] = r.throughput.mean * (task.name.includes(`x${BATCH}`) ? BATCH : 1);
      p50[task.name] = [...(p50[task.name] ?? []), r.latency.p50];
    }
    perRound.push(rates);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`\nThroughput (one client, one private redis-server; median of ${ROUNDS} rounds)`);
  console.table(
    tasks.map(([name]) => ({
      task: name,
      'calls/s': Math.round(median(perRound.map((r) => r[name]!))),
      'latency p50 (ms)': Number(median(p50[name]!).toFixed(3)),
    })),
  );
  const ratio = (a: string, b: string) => perRound.map((r) => r[a]! / r[b]!);
  const seq = ratio('otp.verify, wrong code', 'raw EVALSHA `return 1` (anchor)');
  const conc = ratio(
    `otp.verify x${BATCH} concurrent`,
    `raw EVALSHA \`return 1\` x${BATCH} concurrent (anchor)`,
  );
  const fmt = (xs: number[]) =>
    `${median(xs).toFixed(2)}x (rounds: ${xs.map((x) => x.toFixed(2)).join(', ')})`;
  console.log(`\nverify / raw EVALSHA, sequential:      ${fmt(seq)}  target >= 0.5x`);
  console.log(`verify / raw EVALSHA, ${BATCH} concurrent: ${fmt(conc)}  target >= 0.5x`);
  await otp.close();
} finally {
  client.disconnect();
  monitorClient.disconnect();
  stop();
}
