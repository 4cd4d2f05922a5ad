// The services the console reads, typed structurally (the few methods it calls) so that any version of the
// @app packages, or a compatible implementation, fits. Every one is optional: a section shows only when its
// service is given.

import type { DeadLetter } from '@app/events';
import type { Evaluation, FlagContext, FlagDefinition, FlagStore } from '@app/flags';
import type { Decision, PermissionEntry, PermissionService } from '@app/permissions';

type MaybePromise<T> = T | Promise<T>;
type Unsubscribe = () => void;

/** The section names, in the order the UI shows them. */
export const SECTIONS = ['flags', 'config', 'events', 'delivery', 'otp', 'permissions'] as const;
/** One console section. */
export type SectionName = (typeof SECTIONS)[number];

/** What the console needs of `@app/config`'s service. */
export interface ConsoleConfig {
  get(key: string): Promise<unknown>;
  set(key: string, value: never): Promise<number>;
  delete(key: string): Promise<boolean>;
  list(prefix: string): Promise<ReadonlyMap<string, { readonly value: unknown; readonly version: number }>>;
  watch(key: string, callback: (value: unknown, key: string) => void): Unsubscribe;
}

/** What the console needs of `@app/flags`' `Flags`. */
export interface ConsoleFlags {
  names(): string[];
  definition(flag: string): FlagDefinition | undefined;
  evaluate(flag: string, context?: FlagContext): Evaluation;
  onChange(listener: (change: { flags: string[] }) => void): Unsubscribe;
  /** Recent evaluations per variant, when the flags are wrapped by `countEvaluations`. */
  recentEvaluations?(flag: string): Record<string, number>;
}

/** One event as the console receives it from the bus. */
export interface ConsoleEvent {
  readonly id: string;
  readonly name: string;
  readonly data: unknown;
  readonly timestamp: number;
  readonly position?: string;
  readonly source?: string;
}

/** One dead letter, as `@app/events` lists them. */
export type ConsoleDeadLetter = DeadLetter;

/** What the console needs of `@app/events`' bus. */
export interface ConsoleEventBus {
  subscribePattern(
    pattern: string,
    handler: (event: ConsoleEvent) => unknown,
  ): Promise<{ close(): Promise<void> }>;
  history(
    event: string,
    options?: { limit?: number; order?: 'asc' | 'desc' },
  ): Promise<readonly ConsoleEvent[]>;
  listDeadLetters(subscription: string, limit?: number): Promise<readonly ConsoleDeadLetter[]>;
  replayDeadLetters(subscription: string, ids?: readonly string[]): Promise<number>;
  /**
   * Optional (present when the bus's transport can tell, e.g. `@app/events` on memory or Redis): how many
   * events the log of `name` holds. Without it the section shows "n/a".
   */
  streamLength?(name: string): Promise<number>;
  /** Optional: the durable groups reading the log of `name`, with pending count and lag. */
  consumerGroups?(
    name: string,
  ): Promise<readonly { group: string; pending: number; lag?: number | null | undefined }[]>;
  /** Optional: deletes dead letters (all without `ids`); without it the Delete buttons are not shown. */
  deleteDeadLetters?(subscription: string, ids?: readonly string[]): Promise<number>;
}

/** One consumer group of an event log, as the events section shows it. */
export interface ConsumerGroupInfo {
  /** The group (durable subscription) name. */
  name: string;
  /** Deliveries read but not acknowledged. */
  pending: number;
  /** Events in the log the group has not read yet, when the transport knows. */
  lag?: number | null;
}

/** The events section's options. */
export interface ConsoleEventsOptions {
  /** The event bus (`createEventBus(...)`). */
  bus: ConsoleEventBus;
  /** Event names always listed (others appear when they are published). @default [] */
  names?: readonly string[];
  /** The durable subscriptions (group names) whose dead letters are shown. @default [] */
  subscriptions?: readonly string[];
  /** How often the server looks for new dead letters to push to open pages (0: never). @default 2000 */
  deadLetterWatchMs?: number;
}

/** One delivery channel (email or SMS) of the delivery section. */
export interface ConsoleDeliveryChannel {
  /** The service (`createEmailService`/`createSmsService`); its `chain()` shows the current order. */
  service?: { chain(): Promise<string[]> };
  /** The providers an operator may switch to. */
  providers: readonly string[];
  /** The config key naming the primary provider. @default '<channel>.provider' */
  providerKey?: string;
}

/** How the console decides who is asking and what they may do. */
export interface ConsoleAuthorize {
  /** The subject id from your session, or `null`/`undefined` for anonymous (answered with 401). */
  getSubject: (request: Request) => MaybePromise<string | null | undefined>;
  /**
   * The permission service checking `console:read` / `console:write` on resource `{ type: 'console', id:
   * <section> }`: grant the permission globally for every section, or assign a role scoped to one section
   * (`{ resource: { type: 'console', id: 'flags' } }`). @default the `permissions` option
   */
  permissions?: Pick<PermissionService, 'check'>;
  /** The tenant the request is about, if your app has tenants. @default () => undefined */
  getTenant?: (request: Request) => MaybePromise<string | undefined>;
}

/** One entry of the change history. */
export interface ChangeRecord {
  /** A unique id, sortable by time. */
  id: string;
  /** When, in ms since the epoch. */
  at: number;
  /** Who: the subject `authorize.getSubject` resolved. */
  subject: string;
  section: SectionName;
  /** What was done, e.g. `toggle`, `set`, `replay`. */
  action: string;
  /** What it was done to: a flag name, a config key, a subscription... */
  target: string;
  /** The value before (redacted like every response), when there was one. */
  before?: unknown;
  /** The value after (redacted), when there is one. */
  after?: unknown;
}

/** Where the change history is kept. */
export interface ChangeHistoryStore {
  append(record: ChangeRecord): Promise<void>;
  /** The newest `limit` records, newest first. */
  list(limit: number): Promise<ChangeRecord[]>;
}

/** Options of {@link createConsole}. */
export interface ConsoleOptions {
  /** Who is asking and what they may do. Required: the console never answers an unauthenticated request. */
  authorize: ConsoleAuthorize;
  /** The URL path the console is mounted at, e.g. `/console`. @default '' */
  basePath?: string;
  /** `@app/config`'s service: the config section, the provider switch and (by default) the change history. @default undefined */
  config?: ConsoleConfig;
  /** Prefixes the config section offers (an operator can type any other). @default ['app.', 'flags.', 'email.', 'sms.'] */
  configPrefixes?: readonly string[];
  /** `@app/flags`' `Flags`: the flags section. @default undefined */
  flags?: ConsoleFlags;
  /** Where flag definitions are written with `setFlag`. @default the `config` option */
  flagStore?: FlagStore;
  /** The flags' config key prefix, as given to `createFlags`. @default 'flags.' */
  flagKeyPrefix?: string;
  /** The event bus: the events section, and the source of the delivery and OTP sections. @default undefined */
  events?: ConsoleEventsOptions;
  /** The email channel of the delivery section. @default undefined */
  email?: ConsoleDeliveryChannel;
  /** The SMS channel of the delivery section. @default undefined */
  sms?: ConsoleDeliveryChannel;
  /** Show the OTP section, counted from the `otp.*` events on the bus (needs `events`). @default false */
  otp?: boolean | { bucketMs?: number };
  /** `@app/permissions`' service: the permissions section, and the default `authorize.permissions`. @default undefined */
  permissions?: Pick<
    PermissionService,
    | 'check'
    | 'explain'
    | 'listPermissions'
    | 'grant'
    | 'deny'
    | 'revoke'
    | 'inherit'
    | 'disinherit'
    | 'assign'
    | 'unassign'
    | 'listRoles'
    | 'getRole'
  >;
  /** Where the change history is kept. @default the `config` option (keys under `console.history.`), else memory */
  history?: ChangeHistoryStore;
  /** The page title. @default 'Operations console' */
  title?: string;
  /** The clock, in epoch ms. @default Date.now */
  now?: () => number;
}

/** The Fetch-style console handler, with `close()` for the subscriptions it holds. */
export interface ConsoleHandler {
  /** Answers one request under `basePath`; any other path gets 404. */
  (request: Request): Promise<Response>;
  /** The mount path, normalized (no trailing slash). */
  readonly basePath: string;
  /** Resolves once the console's subscriptions (flags, config, the event bus) are running. */
  ready(): Promise<void>;
  /** Stops the subscriptions and live streams (idempotent). */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export type { Decision, PermissionEntry };
