import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { withNode as ask, RedisProcesses, serverArgs, until } from './redis-processes.js';
import { freePort } from './redis-server.js';
import { atEndOfFile } from './service.js';

/** A master, its replica and three Sentinels (quorum 2), real processes on loopback, owned by one test file. */
export interface RedisSentinel {
  /** The name the Sentinels monitor. */
  readonly name: string;
  /** `{ host, port }` of each Sentinel: what ioredis' `sentinels` option takes. */
  readonly sentinels: ReadonlyArray<{ host: string; port: number }>;
  /** A new ioredis client in sentinel mode (closed with the setup). */
  client(options?: RedisOptions): Redis;
  /** The port of the current master, as the Sentinels report it. */
  master(): Promise<number>;
  /** Kills the master (SIGKILL) and waits until the Sentinels have promoted the replica. */
  failover(): Promise<{ from: number; to: number }>;
  /** Stops every process and removes their files. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

/**
 * Starts a Sentinel setup of real processes: a master, one replica and three Sentinels (quorum 2, a dead
 * master is noticed after 1 s), torn down after the test file.
 *
 * @example
 * ```ts
 * const setup = await startRedisSentinel();
 * const client = setup.client();
 * await setup.failover(); // the replica is master now; the client follows
 * ```
 */
export async function startRedisSentinel(): Promise<RedisSentinel> {
  const name = 'app-test';
  const processes = new RedisProcesses('app-redis-sentinel-');
  const dir = processes.dir;
  const [masterPort, replicaPort, ...sentinelPorts] = (await Promise.all(
    Array.from({ length: 5 }, () => freePort()),
  )) as [number, number, number, number, number];

  const run = (port: number, args: string[]) => processes.start(port, args);
  const server = (port: number, extra: string[] = []) => serverArgs(port, dir, extra);
  const master = () =>
    ask(sentinelPorts[0] as number, async (c) => {
      const addr = (await c.call('SENTINEL', 'get-master-addr-by-name', name)) as [string, string] | null;
      return Number(addr?.[1]);
    });

  try {
    await run(masterPort, server(masterPort));
    await run(replicaPort, server(replicaPort, ['--replicaof', HOST, String(masterPort)]));
    await until('the replica in sync', () =>
      ask(replicaPort, async (c) => ((await c.role()) as unknown[])[3] === 'connected' || undefined),
    );
    for (const port of sentinelPorts) {
      const file = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `sentinel monitor ${name} ${HOST} ${masterPort} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      await run(port, [file, '--sentinel']);
    }
    // Every Sentinel knows the replica and the other Sentinels (so a failover can be agreed).
    await until('sentinels agreed', async () => {
      const views = await Promise.all(
        sentinelPorts.map((p) => ask(p, async (c) => (await c.call('SENTINEL', 'master', name)) as string[])),
      );
      const field = (v: string[], k: string) => Number(v[v.indexOf(k) + 1]);
      return (
        views.every((v) => field(v, 'num-slaves') >= 1 && field(v, 'num-other-sentinels') >= 2) || undefined
      );
    });
  } catch (error) {
    await processes.closeAll();
    throw error;
  }

  const setup: RedisSentinel = {
    name,
    sentinels: sentinelPorts.map((port) => ({ host: HOST, port })),
    client(options) {
      return processes.track(new Redis({ sentinels: [...setup.sentinels], name, ...options }));
    },
    master,
    async failover() {
      const from = await master();
      await processes.kill(from);
      const to = await until('a promoted master', async () => {
        const port = await master();
        if (port === from || !processes.has(port)) return undefined;
        const role = await ask(port, async (c) => ((await c.role()) as unknown[])[0]);
        return role === 'master' ? port : undefined;
      });
      return { from, to };
    },
    close: () => processes.closeAll(),
  };
  atEndOfFile(() => setup.close());
  return setup;
}
