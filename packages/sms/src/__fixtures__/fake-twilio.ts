import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type RecordedRequest, type Reply, startFakeHttpServer } from '@app/delivery/testing';

/** One request the fake Twilio API received. */
export interface FakeTwilioRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  username: string;
  password: string;
  form: Record<string, string>;
}

/** A scripted answer: a status with a Twilio error body, optional headers, or a request left hanging. */
export type FakeTwilioReply =
  | { status: number; code?: number; message?: string; headers?: Record<string, string> }
  | { hang: true };

/** A local HTTP server speaking the part of Twilio's Messages API the provider uses. */
export interface FakeTwilio {
  url: string;
  accountSid: string;
  /** The auth token it accepts. Assign a new one to rotate it: the old one then gets 401 (code 20003). */
  authToken: string;
  requests: FakeTwilioRequest[];
  /** Answers to give, in order, before falling back to 201 Created. */
  script(...replies: FakeTwilioReply[]): void;
  close(): Promise<void>;
}

export const hex = (bytes: number) => randomBytes(bytes).toString('hex');

const twilioError = (status: number, code: number | undefined, message: string): Reply['body'] => ({
  code,
  message,
  more_info: '',
  status,
});

function parse(req: RecordedRequest): FakeTwilioRequest {
  const [username = '', password = ''] = Buffer.from(
    (req.headers.authorization ?? '').replace(/^Basic /, ''),
    'base64',
  )
    .toString()
    .split(':');
  const form = Object.fromEntries(new URLSearchParams(req.body));
  return { method: req.method, path: req.path, headers: req.headers, username, password, form };
}

/** Starts the fake on `@app/delivery`'s fake HTTP server: Twilio's routes, auth and error bodies. */
export async function startFakeTwilio(
  accountSid = `AC${hex(16)}`,
  initialToken = hex(16),
): Promise<FakeTwilio> {
  let authToken = initialToken;
  const requests: FakeTwilioRequest[] = [];
  const server = await startFakeHttpServer(
    {
      [`POST /2010-04-01/Accounts/${accountSid}/Messages.json`]: (raw) => {
        const { username, password, form } = parse(raw);
        if (username !== accountSid || password !== authToken) {
          return { status: 401, body: twilioError(401, 20003, 'Authenticate') };
        }
        return {
          status: 201,
          body: {
            sid: `SM${hex(16)}`,
            account_sid: accountSid,
            to: form.To,
            from: form.From ?? null,
            messaging_service_sid: form.MessagingServiceSid ?? null,
            body: form.Body,
            status: form.MessagingServiceSid ? 'accepted' : 'queued',
            num_segments: '1',
            direction: 'outbound-api',
            api_version: '2010-04-01',
            date_created: new Date().toUTCString(),
            uri: `/2010-04-01/Accounts/${accountSid}/Messages/SM.json`,
          },
        };
      },
    },
    {
      notFound: { status: 404, body: twilioError(404, 20404, 'not found') },
      onRequest: (raw) => requests.push(parse(raw)),
    },
  );
  return {
    url: server.url,
    accountSid,
    get authToken() {
      return authToken;
    },
    set authToken(token: string) {
      authToken = token;
    },
    requests,
    script: (...replies) =>
      server.fail(
        ...replies.map((r) =>
          'hang' in r
            ? r
            : {
                status: r.status,
                headers: r.headers,
                body: twilioError(r.status, r.code, r.message ?? 'scripted error'),
              },
        ),
      ),
    close: () => server.close(),
  };
}
