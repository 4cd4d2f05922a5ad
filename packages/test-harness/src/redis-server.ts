import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { atEndOfFile } from './service.js';

/** A redis-server process owned by one test, for fault injection: stop it and start it again. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Starts the server (again) on the same port and waits until it answers PING. */
  start(): Promise<void>;
  /** Kills the server (SIGKILL, like a crash) and waits for it to exit. */
  stop(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for a server a test starts). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      c.disconnect();
    }
  }
}

/**
 * Starts a private `redis-server` (from PATH) on a free port, stopped after the test file.
 *
 * @example
 * ```ts
 * const server = await startRedisServer();
 * const client = new Redis(server.url);
 * await server.stop(); // the client sees the connection drop
 * await server.start(); // and reconnects
 * ```
 */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const server: RedisServer = {
    port,
    url,
    async start() {
      if (child) return;
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      const exited = child;
      exited.once('exit', () => {
        if (child === exited) child = undefined;
      });
      await waitForPing(url, 10_000);
    },
    async stop() {
      const c = child;
      if (!c) return;
      child = undefined;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      });
    },
  };
  await server.start();
  atEndOfFile(() => server.stop());
  return server;
}
