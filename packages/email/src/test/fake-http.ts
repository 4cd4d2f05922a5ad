// Local HTTP fakes of the SendGrid and SES v2 APIs, for tests and the benchmark. They record every request
// exactly as the SDK sent it and can inject failures: an HTTP error with headers, a hang (for timeouts), or
// a dropped connection.
import { randomBytes } from 'node:crypto';
import { type FakeServer, type Fault, startFakeHttpServer as startFake } from '@app/delivery/testing';

export type { FakeServer, Fault, RecordedRequest, Reply } from '@app/delivery/testing';

const id = () => randomBytes(11).toString('base64url');

/**
 * A fake of SendGrid's v3 mail send endpoint: 202 with an X-Message-Id, 401 on an API key it does not
 * accept (`apiKey`: one key or several).
 */
export function startFakeSendgrid(
  options: { apiKey?: string | readonly string[]; delayMs?: number } = {},
): Promise<FakeServer> {
  const keys = new Set([options.apiKey ?? 'SG.test-key'].flat());
  return startFake(
    {
      'POST /v3/mail/send': (req) => {
        const auth = req.headers.authorization ?? '';
        if (!auth.startsWith('Bearer ') || !keys.has(auth.slice('Bearer '.length))) {
          return {
            status: 401,
            body: {
              errors: [{ message: 'The provided authorization grant is invalid, expired, or revoked' }],
            },
          };
        }
        return { status: 202, headers: { 'x-message-id': id() } };
      },
    },
    { delayMs: options.delayMs },
  );
}

/**
 * A fake of the SES v2 API: SendEmail and SendBulkEmail. A bulk destination whose address starts with
 * `reject` gets a MESSAGE_REJECTED entry.
 */
export function startFakeSes(options: { delayMs?: number } = {}): Promise<FakeServer> {
  return startFake(
    {
      'POST /v2/email/outbound-emails': () => ({ status: 200, body: { MessageId: `ses-${id()}` } }),
      'POST /v2/email/outbound-bulk-emails': (req) => {
        const entries = (
          JSON.parse(req.body) as { BulkEmailEntries: Array<{ Destination: { ToAddresses: string[] } }> }
        ).BulkEmailEntries;
        return {
          status: 200,
          body: {
            BulkEmailEntryResults: entries.map((e) =>
              e.Destination.ToAddresses.some((a) => a.startsWith('reject'))
                ? { Status: 'MESSAGE_REJECTED', Error: 'Email address is on the suppression list' }
                : { Status: 'SUCCESS', MessageId: `ses-${id()}` },
            ),
          },
        };
      },
    },
    { delayMs: options.delayMs },
  );
}

/** An SES-style JSON error reply (restJson1: the error type in x-amzn-ErrorType). */
export function sesError(status: number, type: string, headers: Record<string, string> = {}): Fault {
  return {
    status,
    headers: { 'x-amzn-errortype': `${type}:`, ...headers },
    body: { message: `${type} (fake)` },
  };
}
