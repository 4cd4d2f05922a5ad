/**
 * Where a package reports what happened (`otp.sent`, `email.bounced`...). `@app/events`' bus fits, and so
 * does any object with a `publish` method. Payloads never carry secrets.
 *
 * @example
 * ```ts
 * const sink: EventSink = { async publish(name, data) { console.log(name, data); } };
 * ```
 */
export interface EventSink {
  publish(event: string, data: Record<string, unknown>, source?: string): Promise<unknown>;
}
