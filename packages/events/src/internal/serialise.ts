import { EventsError, EventsErrorCode } from '../errors.js';

/** The payload as JSON text, or an INVALID_PAYLOAD error (before any I/O). */
export function serialise(name: string, data: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (cause) {
    throw new EventsError(EventsErrorCode.INVALID_PAYLOAD, `payload of ${name} is not JSON-serialisable`, {
      cause,
    });
  }
  if (json === undefined) {
    throw new EventsError(
      EventsErrorCode.INVALID_PAYLOAD,
      `payload of ${name} is not JSON-serialisable (undefined)`,
    );
  }
  return json;
}
