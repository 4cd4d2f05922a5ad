import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

const HOST = '127.0.0.1';

/** `redis-server` arguments for a loopback node on `port` that keeps nothing on disk but its `dir` files. */
export function serverArgs(port: number, dir: string, extra: string[] = []): string[] {
  return ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, ...extra];
}

/** Polls `probe` until it returns a value (not undefined), or throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`, { cause: last });
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `fn` on a short-lived, non-retrying connection to the node on `port`. */
export async function withNode<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  c.on('error', () => {});
  try {
    await c.connect();
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

/**
 * `redis-server` processes keyed by port: started, awaited until they answer PING, killed like a crash; with
 * their own temp directory and the clients handed out, all released by {@link RedisProcesses.closeAll}.
 */
export class RedisProcesses {
  private readonly children = new Map<number, ChildProcess>();
  private readonly clients: Array<{ disconnect(): void }> = [];
  /** The temp directory the nodes run in (their config and cluster files). */
  readonly dir: string;

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  /** Keeps `client` to disconnect at {@link RedisProcesses.closeAll}, and swallows its error events. */
  track<C extends { disconnect(): void; on(event: 'error', fn: () => void): unknown }>(client: C): C {
    client.on('error', () => {});
    this.clients.push(client);
    return client;
  }

  /** Whether the process on `port` runs. */
  has(port: number): boolean {
    return this.children.has(port);
  }

  /** The ports whose process runs. */
  ports(): number[] {
    return [...this.children.keys()];
  }

  /** Starts `redis-server args` for `port` and waits until it answers PING. */
  async start(port: number, args: string[]): Promise<void> {
    const child = spawn('redis-server', args, { stdio: 'ignore', cwd: this.dir });
    this.children.set(port, child);
    child.once('exit', () => {
      if (this.children.get(port) === child) this.children.delete(port);
    });
    await until(`redis-server on ${port}`, () =>
      withNode(port, async (c) => ((await c.ping()) === 'PONG' ? true : undefined)),
    );
  }

  /** SIGKILLs the process on `port` and waits for it to exit. */
  async kill(port: number): Promise<void> {
    const child = this.children.get(port);
    if (!child) return;
    this.children.delete(port);
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** Disconnects the clients handed out, kills every process and removes the directory. */
  async closeAll(): Promise<void> {
    for (const c of this.clients.splice(0)) c.disconnect();
    await Promise.all(this.ports().map((port) => this.kill(port)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
