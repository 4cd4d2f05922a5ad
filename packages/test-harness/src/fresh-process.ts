// Benchmarks that want each measurement in a fresh process (so no JIT state, heap layout or interned strings
// carry over from one to the next) run a script with tsx and read its one `RESULT <json>` line.
import { spawn } from 'node:child_process';

/**
 * Runs `script` in a fresh Node process (with tsx, the parent's environment plus `env`, stderr inherited) and
 * resolves to the JSON of the line it printed as `RESULT <json>` on stdout (see {@link printResult}); rejects
 * when the process fails or prints no such line.
 *
 * @example
 * ```ts
 * const run = await freshProcessResult<Timings>(join(here, 'child.ts'), { BENCH_ROUNDS: '5' });
 * ```
 */
export function freshProcessResult<T>(script: string, env: Record<string, string> = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    proc.once('error', reject);
    proc.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`benchmark process ${script} exited with ${code}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)) as T);
    });
  });
}

/**
 * Prints `result` as the `RESULT <json>` line {@link freshProcessResult} reads.
 *
 * @example
 * ```ts
 * printResult({ rates, ratios });
 * ```
 */
export function printResult(result: unknown): void {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}
