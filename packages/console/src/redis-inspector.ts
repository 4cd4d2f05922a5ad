import { ConsoleError } from './errors.js';
import type { ConsumerGroupInfo, EventsInspector } from './types.js';

/** The one ioredis method the inspector uses (any ioredis 5/6 client fits). */
export interface RedisCallClient {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

/** Options of {@link redisEventsInspector}. */
export interface RedisEventsInspectorOptions {
  /** An ioredis client (a dedicated one is not needed: every call is one short command). */
  client: RedisCallClient;
  /** The `keyPrefix` given to `redisEventTransport`. @default 'events:' */
  keyPrefix?: string;
}

const POSITION = /^\d+-\d+$/;

function pairs(flat: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  if (!Array.isArray(flat)) return map;
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), flat[i + 1]);
  return map;
}

const count = (value: unknown): number | null => {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : null;
};

/**
 * The events section's optional capabilities for `@app/events/redis`, read from the transport's streams:
 * stream length (`XLEN`), consumer groups with pending count and lag (`XINFO GROUPS`; lag needs Redis 7), and
 * deleting dead letters (`XDEL`/`DEL` on the subscription's dead-letter stream). It follows the transport's
 * documented key layout (`<prefix>e:<name>`, `<prefix>dlq:<subscription>`).
 *
 * @example
 * ```ts
 * const console = createConsole({
 *   authorize, events: { bus, subscriptions: ['mailer'], inspector: redisEventsInspector({ client: redis, keyPrefix: 'myapp:events:' }) },
 * });
 * ```
 */
export function redisEventsInspector(options: RedisEventsInspectorOptions): Required<EventsInspector> {
  const { client } = options;
  if (!client || typeof client.call !== 'function') {
    throw new ConsoleError('INVALID_OPTIONS', 'redisEventsInspector needs an ioredis `client`');
  }
  const prefix = options.keyPrefix ?? 'events:';
  return {
    async streamLength(name) {
      return Number(await client.call('XLEN', `${prefix}e:${name}`));
    },
    async groups(name) {
      let raw: unknown;
      try {
        raw = await client.call('XINFO', 'GROUPS', `${prefix}e:${name}`);
      } catch (error) {
        // No stream yet: no groups.
        if (/no such key/i.test(String((error as Error)?.message))) return [];
        throw error;
      }
      return (Array.isArray(raw) ? raw : []).map((entry): ConsumerGroupInfo => {
        const fields = pairs(entry);
        return {
          name: String(fields.get('name')),
          pending: count(fields.get('pending')) ?? 0,
          lag: count(fields.get('lag')),
        };
      });
    },
    async deleteDeadLetters(subscription, ids) {
      const key = `${prefix}dlq:${subscription}`;
      if (ids === undefined) {
        const length = Number(await client.call('XLEN', key));
        await client.call('DEL', key);
        return length;
      }
      if (ids.length === 0) return 0;
      if (ids.some((id) => !POSITION.test(id))) {
        throw new ConsoleError(
          'INVALID_INPUT',
          'dead letter ids must be stream positions like 1700000000000-0',
        );
      }
      return Number(await client.call('XDEL', key, ...ids));
    },
  };
}
