import { ConsoleError } from '../errors.js';
import { type Route, requireString, type Section } from '../http.js';
import type { ConsoleConfig, ConsoleDeliveryChannel, ConsoleEvent } from '../types.js';

/** Sends kept for the "recent sends" table, per console instance. */
export const RECENT_SENDS = 100;

type Channel = 'email' | 'sms';

/** One send as the console shows it: never its recipient or content. */
export interface SendRow {
  channel: Channel;
  messageId: string;
  provider: string | null;
  status: string;
  updatedAt: number;
  /** Status events seen for this message (queued, sent, delivered...). */
  events: number;
  /** Provider attempts, when the event carries them. */
  attempts: number | null;
  /** Providers failed over from, when the event carries it. */
  failovers: number | null;
  reason: string | null;
}

const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);

/**
 * The delivery section: recent email and SMS sends from their `email.*` / `sms.*` events (provider, status
 * from webhooks, attempts and failovers when the events carry them), the provider chain, and a switch that
 * writes `<channel>.provider` in config.
 */
export function deliverySection(
  channels: Partial<Record<Channel, ConsoleDeliveryChannel>>,
  config: ConsoleConfig | undefined,
  now: () => number,
): Section & { observe(event: ConsoleEvent): void } {
  const sends = new Map<string, SendRow>();
  let notify: ((data: unknown) => void) | undefined;
  const given = (Object.keys(channels) as Channel[]).filter((c) => channels[c] !== undefined);

  const channelOf = (value: unknown): [Channel, ConsoleDeliveryChannel] => {
    const channel = requireString(value, 'channel', 10) as Channel;
    const options = given.includes(channel) ? channels[channel] : undefined;
    if (!options) throw new ConsoleError('INVALID_INPUT', `unknown channel ${JSON.stringify(channel)}`);
    return [channel, options];
  };

  const routes: Route[] = [
    {
      method: 'GET',
      path: '',
      handle: async () => ({
        switchable: config !== undefined,
        channels: await Promise.all(
          given.map(async (channel) => {
            const options = channels[channel] as ConsoleDeliveryChannel;
            const key = options.providerKey ?? `${channel}.provider`;
            const [chain, primary] = await Promise.all([
              options.service ? options.service.chain().catch(() => null) : null,
              config ? config.get(key).catch(() => null) : null,
            ]);
            return { channel, providers: options.providers, chain, primary: str(primary), providerKey: key };
          }),
        ),
        recent: [...sends.values()].sort((a, b) => b.updatedAt - a.updatedAt),
      }),
    },
    {
      method: 'POST',
      path: '/:channel/provider',
      write: true,
      handle: async ({ params, body, record }) => {
        const [channel, options] = channelOf(params.channel);
        if (!config) throw new ConsoleError('NOT_AVAILABLE', 'switching providers needs `config`');
        const provider = requireString((await body()).provider, 'provider', 100);
        if (!options.providers.includes(provider)) {
          throw new ConsoleError('INVALID_INPUT', `unknown ${channel} provider ${JSON.stringify(provider)}`);
        }
        const key = options.providerKey ?? `${channel}.provider`;
        const before = await config.get(key);
        await config.set(key, provider as never);
        await record({ action: 'switch-provider', target: key, before, after: provider });
        notify?.({ channel });
        return { channel, provider };
      },
    },
  ];

  return {
    name: 'delivery',
    routes,
    async start(send) {
      notify = send;
    },
    observe(event) {
      const channel = event.name.startsWith('email.')
        ? 'email'
        : event.name.startsWith('sms.')
          ? 'sms'
          : null;
      if (!channel || !given.includes(channel)) return;
      const data = (event.data ?? {}) as Record<string, unknown>;
      const messageId = str(data.messageId) ?? str(data.id);
      if (!messageId) return;
      const key = `${channel}:${messageId}`;
      const previous = sends.get(key);
      const row: SendRow = {
        channel,
        messageId,
        provider: str(data.provider) ?? previous?.provider ?? null,
        status: str(data.status) ?? event.name.slice(channel.length + 1),
        updatedAt: event.timestamp || now(),
        events: (previous?.events ?? 0) + 1,
        attempts: num(data.attempts) ?? previous?.attempts ?? null,
        failovers: num(data.failovers) ?? previous?.failovers ?? null,
        reason: str(data.reason) ?? previous?.reason ?? null,
      };
      sends.delete(key);
      sends.set(key, row);
      if (sends.size > RECENT_SENDS) sends.delete(sends.keys().next().value as string);
      notify?.({ channel, messageId });
    },
  };
}
