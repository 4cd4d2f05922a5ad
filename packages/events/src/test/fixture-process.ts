// Runs a fixture script of adapters/fixtures/ in a child process (the "other instance" of a test), its
// standard output read a line at a time. One way for every test that kills a consumer or a relay mid-work.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'adapters', 'fixtures');

/** A fixture running in a child process. */
export interface FixtureProcess {
  readonly child: ChildProcess;
  /** Settles with the exit code once the child has exited. */
  readonly exited: Promise<number | null>;
  /** SIGKILLs the child (as a crash would) and waits until it has exited. Safe to call twice. */
  kill(): Promise<void>;
}

/**
 * Starts `node --import tsx adapters/fixtures/<file> ...args`, calling `onLine` with each complete line the
 * child prints; its stderr goes to the test's.
 *
 * @example
 * ```ts
 * const child = runFixture('redis-consumer.ts', [redis.url, prefix], (line) => lines.push(line));
 * try { await eventually(() => expect(lines).toContain('ready')); } finally { await child.kill(); }
 * ```
 */
export function runFixture(file: string, args: string[], onLine: (line: string) => void): FixtureProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(fixtures, file), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
