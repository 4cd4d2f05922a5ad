import { type ConsoleHandler, createConsole } from '@app/console';
import { APP_EVENT_NAMES } from './events.js';
import { EMAIL_PROVIDERS } from './schemas.js';
import type { AppServices } from './services.js';

/** The durable subscriptions of {@link registerEventHandlers}, whose dead letters the console shows. */
const HANDLER_GROUPS = [
  'welcome-email',
  'notification-preferences',
  'analytics-user-registered',
  'analytics-message-sent',
];

/** Options of {@link createAppConsole}. */
export interface AppConsoleOptions {
  /** Where the console is mounted. @default '/console' */
  basePath?: string;
  /** The signed-in user of a request (the example apps' session), or undefined. */
  getSubject: (request: Request) => Promise<string | undefined>;
}

/**
 * The operations console over the example app's services. Demo policy: every signed-in user is an operator
 * (the role `console-operator`, holding `console:read` and `console:write`, is assigned on their first visit).
 *
 * @example
 * ```ts
 * const console = await createAppConsole(services, { getSubject: async (req) => (await sessionOf(req))?.userId });
 * ```
 */
export async function createAppConsole(
  services: AppServices,
  options: AppConsoleOptions,
): Promise<ConsoleHandler> {
  const { permissions } = services;
  await permissions.grant('console-operator', 'console:read');
  await permissions.grant('console-operator', 'console:write');
  const operators = new Set<string>();
  return createConsole({
    basePath: options.basePath ?? '/console',
    title: `Operations console · ${services.instanceName}`,
    authorize: {
      async getSubject(request) {
        const subject = await options.getSubject(request);
        if (subject && !operators.has(subject)) {
          await permissions.assign(subject, 'console-operator'); // idempotent
          operators.add(subject);
        }
        return subject;
      },
    },
    config: services.config,
    configPrefixes: ['app.', 'flags.', 'email.', 'sms.', 'console.'],
    flags: services.flags,
    permissions,
    events: { bus: services.events, names: APP_EVENT_NAMES, subscriptions: HANDLER_GROUPS },
    email: { service: services.email, providers: EMAIL_PROVIDERS },
    sms: { service: services.sms, providers: ['memory'] },
    otp: true,
  });
}
