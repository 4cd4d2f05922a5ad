// The cost of telemetry on config.get (in-process cache hit, the hot path) with @opentelemetry/api installed
// and no SDK registered: the default (`telemetry` unset) against `telemetry: false`, in interleaved rounds in
// one process (the side that goes first alternates), rates on this process's CPU time; ratio per round.
//   pnpm --filter @app/config bench:telemetry    (CONFIG_TELEMETRY_ROUNDS=n, default 21)
import { memoryConfigStore } from '../src/adapters/memory.js';
import { type ConfigService, createConfigService } from '../src/index.js';

const ROUNDS = Number(process.env.CONFIG_TELEMETRY_ROUNDS ?? 21);
const BATCH = 1_000;
const SAMPLE_MS = 200;

async function serviceWith(telemetry: false | undefined): Promise<ConfigService> {
  const config = createConfigService({ store: memoryConfigStore(), cache: { ttlMs: 3_600_000 }, telemetry });
  await config.set('email.provider', 'ses');
  await config.get('email.provider');
  return config;
}
const on = await serviceWith(undefined);
const off = await serviceWith(false);

const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
let sink: unknown;
/** Awaited cache-hit gets per CPU second over about SAMPLE_MS. */
async function sample(config: ConfigService): Promise<number> {
  let n = 0;
  const until = performance.now() + SAMPLE_MS;
  const c0 = cpu();
  while (performance.now() < until) {
    for (let i = 0; i < BATCH; i++) sink = await config.get('email.provider');
    n++;
  }
  return (n * BATCH) / ((cpu() - c0) / 1e6);
}

await sample(on);
await sample(off);
const ratios: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const [a, b] = r % 2 === 0 ? [await sample(on), await sample(off)] : [0, await sample(off)];
  const onRate = r % 2 === 0 ? a : await sample(on);
  ratios.push(onRate / b);
}
const sorted = [...ratios].sort((x, y) => x - y);
const q = (p: number) => (sorted[Math.floor(sorted.length * p)] as number).toFixed(3);
console.log(
  `config.get (cache hit), API installed, no SDK: default / telemetry:false, ${ROUNDS} interleaved rounds: median ${q(0.5)} (IQR ${q(0.25)}-${q(0.75)}, min-max ${sorted[0]?.toFixed(3)}-${sorted.at(-1)?.toFixed(3)})`,
);
if (sink !== 'ses') throw new Error('read the wrong value');
await on.close();
await off.close();
