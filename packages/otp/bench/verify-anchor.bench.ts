/**
 * Issue 17's anchor workload for OTP verify: 64 concurrent `otp.verify` calls (wrong code, so each one
 * compares, counts the attempt and answers) against 64 concurrent raw EVALSHA of a trivial script
 * (`return 1`), on one ioredis client and one private redis-server, in one process. The two run in short
 * alternating blocks (order flipped every round) so that load drifting on the shared machine hits both
 * alike; each round gives one throughput ratio, and the report is the median ratio and its spread.
 * Run: pnpm --filter @app/otp bench (or tsx bench/verify-anchor.bench.ts). Target: >= 0.5x.
 */
import { Redis } from 'ioredis';
import { redisOtpStore, VERIFY_SCRIPT } from '../src/adapters/redis.js';
import { startRedis } from './redis-server.js';
import { benchOtp, poolPhone, sendPool } from './setup.js';

const CONCURRENCY = 64;
const ROUNDS = Number(process.env.ROUNDS ?? 25);
const BATCHES = Number(process.env.BATCHES ?? 60);
const POOL = 10_000;

const { url, stop } = await startRedis();
const client = new Redis(url);
try {
  const otp = benchOtp(redisOtpStore({ client, keyPrefix: 'anchor:' }));
  // Wrong guesses rotate over 10,000 live challenges, so none reaches maxAttempts (100) during the run and
  // every measured verify takes the "wrong code, count the attempt" path.
  await sendPool(otp, POOL, 500);
  let guess = 0;
  const trivialSha = (await client.script('LOAD', 'return 1')) as string;
  const verifySha = (await client.script('LOAD', VERIFY_SCRIPT)) as string;
  await client.hset('anchor:raw', 'id', 'x', 'h', 'a'.repeat(64), 'a', 0, 'm', 1e9, 'e', 9e12);
  const wrongHash = 'b'.repeat(64);

  const tasks = {
    'raw EVALSHA `return 1` (anchor)': () => client.evalsha(trivialSha, 1, 'anchor:k'),
    'otp.verify, wrong code': () =>
      otp.verify({ to: poolPhone(guess++ % POOL), code: '000000', purpose: 'login' }),
    'raw EVALSHA of the verify script (no service)': () =>
      client.evalsha(verifySha, 2, 'anchor:raw', 'anchor:decoy', Date.now(), wrongHash, ''),
  } satisfies Record<string, () => Promise<unknown>>;
  type Task = keyof typeof tasks;
  const names = Object.keys(tasks) as Task[];

  /** Calls per second of `BATCHES` batches of `CONCURRENCY` concurrent calls. */
  const block = async (name: Task): Promise<number> => {
    const fn = tasks[name];
    const start = process.hrtime.bigint();
    for (let b = 0; b < BATCHES; b++) await Promise.all(Array.from({ length: CONCURRENCY }, fn));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return (BATCHES * CONCURRENCY) / seconds;
  };

  for (const name of names) await block(name); // warm-up: JIT, script cache, connection
  const rates: Record<Task, number[]> = Object.fromEntries(names.map((n) => [n, []])) as never;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) rates[name].push(await block(name));
  }

  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  const quartiles = (xs: number[]): [number, number] => {
    const s = [...xs].sort((a, b) => a - b);
    return [s[Math.floor((s.length - 1) / 4)]!, s[Math.ceil(((s.length - 1) * 3) / 4)]!];
  };
  const anchor = 'raw EVALSHA `return 1` (anchor)' as Task;
  console.log(
    `\nOTP verify, ${CONCURRENCY} concurrent, vs raw EVALSHA of a trivial script (${ROUNDS} interleaved rounds of ${BATCHES} batches)`,
  );
  const rows = names.map((name) => {
    const ratios = rates[name].map((r, i) => r / rates[anchor][i]!);
    const [q1, q3] = quartiles(ratios);
    return {
      task: `${name} x${CONCURRENCY} concurrent`,
      'median calls/s': Math.round(median(rates[name])),
      'ratio to anchor (median)': Number(median(ratios).toFixed(3)),
      'ratio IQR': `${q1.toFixed(2)}-${q3.toFixed(2)}`,
      'ratio min-max': `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`,
    };
  });
  console.table(rows);
  const verify = rows[1]!;
  console.log(
    `RESULT otp-verify-64/raw-evalsha-64 = ${verify['ratio to anchor (median)']}x (IQR ${verify['ratio IQR']}) target >= 0.5x`,
  );
  await otp.close();
} finally {
  client.disconnect();
  stop();
}
