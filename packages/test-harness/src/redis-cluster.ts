import { spawn } from 'node:child_process';
import { Cluster } from 'ioredis';
import { RedisProcesses, serverArgs, until, withNode } from './redis-processes.js';
import { freePort } from './redis-server.js';
import { atEndOfFile } from './service.js';

/** One node of a {@link RedisCluster}. */
export interface RedisClusterNode {
  readonly port: number;
  /** Whether the process is running. */
  readonly running: boolean;
}

/** A real Redis Cluster of `redis-server` processes on loopback, owned by one test file. */
export interface RedisCluster {
  /** The nodes, masters first as created (a failover changes who is master: ask {@link RedisCluster.masterOf}). */
  readonly nodes: readonly RedisClusterNode[];
  /** `{ host, port }` of every node: what `new Cluster(startupNodes)` takes. */
  readonly startupNodes: ReadonlyArray<{ host: string; port: number }>;
  /** A new ioredis `Cluster` client on this cluster (closed with the cluster). */
  client(options?: ConstructorParameters<typeof Cluster>[1]): Cluster;
  /** The port of the master that serves `key`'s hash slot now. */
  masterOf(key: string): Promise<number>;
  /**
   * Kills the master serving `key` (SIGKILL, like a crash) and waits until its replica has been promoted
   * and the cluster answers for that slot again. Returns the old and the new master's ports.
   */
  failover(key: string): Promise<{ from: number; to: number }>;
  /**
   * Starts a killed node again and waits until it has rejoined as a replica in sync with its master, so a
   * `WAIT 1` on that master counts it again.
   */
  restart(port: number): Promise<void>;
  /** Stops every node and removes their files. */
  close(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** Masters (each with `replicas` replicas). @default 3 */
  masters?: number;
  /** Replicas per master. @default 1 */
  replicas?: number;
  /** `cluster-node-timeout`: how soon a dead master is failed over. @default 1500 */
  nodeTimeoutMs?: number;
}

const HOST = '127.0.0.1';

/** CRC16 (XMODEM) hash slot of a key, honouring `{hash tags}`, as Redis Cluster computes it. */
export function hashSlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/** Whether a node's `ROLE` reply is a replica's whose link to its master is up (synced). */
const syncedReplica = (role: unknown[]) => role[0] === 'slave' && role[3] === 'connected';

/**
 * Starts a Redis Cluster of real `redis-server` processes (3 masters and 3 replicas by default) on free
 * loopback ports, waits until every slot is served, and tears it down after the test file.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster();
 * const client = cluster.client();
 * await client.set('{user:1}:name', 'Ada');
 * await cluster.failover('{user:1}:name'); // its master killed, its replica promoted
 * ```
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 1;
  const count = masters * (1 + replicas);
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    // The cluster bus listens on port + 10000: both must be free and distinct from the others.
    if (port + 10_000 < 65_536 && !ports.includes(port)) ports.push(port);
  }
  const processes = new RedisProcesses('app-redis-cluster-');
  const dir = processes.dir;
  const spawnNode = (port: number) =>
    processes.start(
      port,
      serverArgs(port, dir, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        String(options.nodeTimeoutMs ?? 1500),
      ]),
    );
  const clusterOk = (port: number) =>
    withNode(
      port,
      async (c) => ((await c.cluster('INFO')) as string).includes('cluster_state:ok') || undefined,
    );

  const masterOf = async (key: string): Promise<number> => {
    const slot = hashSlot(key);
    const alive = processes.ports();
    return until(`the master of slot ${slot}`, async () => {
      for (const port of alive) {
        const found = await withNode(port, async (c) => {
          const slots = (await c.cluster('SLOTS')) as unknown as Array<
            [number, number, [string, number, ...unknown[]]]
          >;
          const range = slots.find(([from, to]) => slot >= from && slot <= to);
          return range?.[2][1];
        }).catch(() => undefined);
        if (found !== undefined && processes.has(found)) return found;
      }
      return undefined;
    });
  };

  try {
    await Promise.all(ports.map(spawnNode));
    await new Promise<void>((resolve, reject) => {
      const create = spawn(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...ports.map((p) => `${HOST}:${p}`),
          '--cluster-replicas',
          String(replicas),
          '--cluster-yes',
        ],
        { stdio: 'ignore' },
      );
      create.once('error', reject);
      create.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`redis-cli --cluster create exited ${code}`)),
      );
    });
    for (const port of ports) await until(`cluster_state:ok on ${port}`, () => clusterOk(port));
    // Every replica attached to its master (so a failover has someone to promote).
    await until('replicas in sync', async () => {
      const roles = await Promise.all(
        ports.map((p) => withNode(p, async (c) => (await c.role()) as unknown[])),
      );
      const synced = roles.filter(syncedReplica).length;
      return synced === masters * replicas || undefined;
    });
  } catch (error) {
    await processes.closeAll();
    throw error;
  }

  const cluster: RedisCluster = {
    nodes: ports.map((port) => ({
      port,
      get running() {
        return processes.has(port);
      },
    })),
    startupNodes: ports.map((port) => ({ host: HOST, port })),
    client(clientOptions) {
      return processes.track(
        new Cluster(cluster.startupNodes as Array<{ host: string; port: number }>, clientOptions),
      );
    },
    masterOf,
    async failover(key) {
      const from = await masterOf(key);
      await processes.kill(from);
      const to = await masterOf(key);
      const alive = processes.ports();
      for (const port of alive)
        await until(`cluster_state:ok on ${port} after failover`, () => clusterOk(port));
      return { from, to };
    },
    async restart(port) {
      if (processes.has(port)) return;
      await spawnNode(port);
      await until(`${port} back as a replica in sync`, async () => {
        if (!(await clusterOk(port))) return undefined;
        return syncedReplica(await withNode(port, async (c) => (await c.role()) as unknown[])) || undefined;
      });
    },
    close: () => processes.closeAll(),
  };
  atEndOfFile(() => cluster.close());
  return cluster;
}
