import type { EmailEvents } from '@app/email';
import type { OtpEvents } from '@app/otp';
import type { SmsEvents } from '@app/sms';

/** Payload of `user.registered`: published once, on a user's first sign-in. */
export interface UserRegistered {
  userId: string;
  /** E.164 phone number the user signed in with. */
  phone: string;
  /** Where the welcome email goes (the demo derives one from the phone number). */
  email: string;
  /** ISO 8601. */
  registeredAt: string;
}

/** Payload of `message.sent`. */
export interface MessageSent {
  messageId: string;
  roomId: string;
  userId: string;
  /** Length of the text (the text itself stays out of the event log). */
  length: number;
  sentAt: string;
}

/** Payload of `analytics.tracked`: what the guide's `analyticsService.track` call became. */
export interface AnalyticsTracked {
  /** `user_registered`, `message_sent`... */
  event: string;
  userId: string;
  properties: Record<string, string | number | boolean>;
  /** The id of the event that caused it: handlers are at-least-once, so consumers dedupe on it. */
  causedBy: string;
}

/** Payload of `room.created` / `room.deleted`. */
export interface RoomChanged {
  roomId: string;
  name: string;
  userId: string;
}

/** What the services publish themselves: each package's own event map (ids and statuses, never content). */
export type ServiceEvents = OtpEvents & EmailEvents & SmsEvents;

/**
 * Every event of the example apps, name -> payload: the app's own events composed with the services' maps, so
 * `publish` and handlers are checked at compile time.
 */
export interface AppEvents extends ServiceEvents {
  'user.registered': UserRegistered;
  'user.signed_in': { userId: string };
  'message.sent': MessageSent;
  'analytics.tracked': AnalyticsTracked;
  'room.created': RoomChanged;
  'room.deleted': RoomChanged;
}

/** Every event name of {@link AppEvents}: what `eventLog()` reads (history is kept per name). */
export const APP_EVENT_NAMES: ReadonlyArray<keyof AppEvents> = [
  'user.registered',
  'user.signed_in',
  'message.sent',
  'analytics.tracked',
  'room.created',
  'room.deleted',
  'email.queued',
  'email.sent',
  'sms.queued',
  'sms.sent',
  'sms.delivered',
  'sms.failed',
  'otp.sent',
  'otp.verified',
  'otp.failed',
  'otp.locked',
];
