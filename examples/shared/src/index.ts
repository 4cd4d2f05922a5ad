export type { AppConsoleOptions } from './console.js';
export { createAppConsole } from './console.js';
export type {
  AnalyticsTracked,
  AppEvents,
  MessageSent,
  RoomChanged,
  ServiceEvents,
  UserRegistered,
} from './events.js';
export { APP_EVENT_NAMES } from './events.js';
export { DEFAULT_NOTIFICATION_PREFERENCES, registerEventHandlers } from './handlers.js';
export type { HttpError } from './http.js';
export { bearerToken, errorAnswer, httpError, malformedJson, routeNotFound, toHttpError } from './http.js';
export type { AppConfigSchemas, EmailProviderName } from './schemas.js';
export { CONFIG_SCHEMAS, EMAIL_PROVIDERS } from './schemas.js';
export type {
  AppServices,
  AppServicesOptions,
  AuthService,
  EventLogEntry,
  MessagesService,
  OutboxEmail,
  OutboxSms,
} from './services.js';
export { createServices, DEV_OTP_SECRET, ROLES, SEEDED_FLAGS, servicesFromEnv, TOKENS } from './services.js';
export type { Message, MessageStore, Room, RoomStore, Session } from './stores.js';
