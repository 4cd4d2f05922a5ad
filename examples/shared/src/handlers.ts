import type { EmailService } from '@app/email';
import type { EventBus, Subscription } from '@app/events';
import type { AppEvents } from './events.js';

/** What a user gets by default, written to config key `notifications.<userId>`. */
export const DEFAULT_NOTIFICATION_PREFERENCES = { email: true, push: true, sms: false } as const;

/** The config the handlers write to (the config service fits). */
export interface PreferencesWriter {
  get(key: string): Promise<unknown>;
  set(key: string, value: { email: boolean; push: boolean; sms: boolean }): Promise<unknown>;
}

/** What {@link registerEventHandlers} needs. */
export interface EventHandlerDeps {
  events: EventBus<AppEvents>;
  email: EmailService;
  config: PreferencesWriter;
}

/**
 * The guide's event handlers (its section 8), each a durable subscription of its own consumer group: on
 * Redis a handler's events wait in its group while no instance runs, one instance handles each event, and a
 * failing handler is retried with backoff then dead-lettered, without replaying the other handlers. They are
 * idempotent, since delivery is at least once: the welcome email carries the event id as its idempotency
 * key, the preferences are written only when absent, analytics events carry `causedBy`.
 *
 * - `user.registered` -> welcome email (through whichever provider `email.provider` names right now)
 * - `user.registered` -> notification preferences in config `notifications.<userId>`
 * - `user.registered`, `message.sent` -> `analytics.tracked`
 *
 * @example
 * ```ts
 * const subscriptions = await registerEventHandlers({ events, email, config });
 * // later: await Promise.all(subscriptions.map((s) => s.close()));
 * ```
 */
export async function registerEventHandlers(deps: EventHandlerDeps): Promise<Subscription[]> {
  const { events, email, config } = deps;
  return Promise.all([
    events.subscribe(
      'user.registered',
      async ({ id, data }) => {
        await email.send(
          {
            to: data.email,
            subject: 'Welcome to the chat!',
            text: `Hello! Your account ${data.userId} is ready. Sign in with your phone ${data.phone} any time.`,
            html: `<p>Hello! Your account <b>${data.userId}</b> is ready.</p>`,
            tags: { kind: 'welcome' },
          },
          { idempotencyKey: `welcome:${id}` },
        );
      },
      { group: 'welcome-email' },
    ),
    events.subscribe(
      'user.registered',
      async ({ data }) => {
        const key = `notifications.${data.userId}`;
        if ((await config.get(key)) === undefined)
          await config.set(key, { ...DEFAULT_NOTIFICATION_PREFERENCES });
      },
      { group: 'notification-preferences' },
    ),
    events.subscribe(
      'user.registered',
      async ({ id, data }) => {
        await events.publish('analytics.tracked', {
          event: 'user_registered',
          userId: data.userId,
          properties: { registeredAt: data.registeredAt },
          causedBy: id,
        });
      },
      { group: 'analytics-user-registered' },
    ),
    events.subscribe(
      'message.sent',
      async ({ id, data }) => {
        await events.publish('analytics.tracked', {
          event: 'message_sent',
          userId: data.userId,
          properties: { roomId: data.roomId, length: data.length },
          causedBy: id,
        });
      },
      { group: 'analytics-message-sent' },
    ),
  ]);
}
