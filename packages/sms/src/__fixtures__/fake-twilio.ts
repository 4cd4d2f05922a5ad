import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

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

export async function startFakeTwilio(
  accountSid = `AC${hex(16)}`,
  initialToken = hex(16),
): Promise<FakeTwilio> {
  let authToken = initialToken;
  const requests: FakeTwilioRequest[] = [];
  const queue: FakeTwilioReply[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const [user = '', pass = ''] = Buffer.from(
        (req.headers.authorization ?? '').replace(/^Basic /, ''),
        'base64',
      )
        .toString()
        .split(':');
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        username: user,
        password: pass,
        form,
      });
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      const reply = queue.shift();
      if (reply && 'hang' in reply) return;
      if (reply) {
        return json(
          reply.status,
          {
            code: reply.code,
            message: reply.message ?? 'scripted error',
            more_info: '',
            status: reply.status,
          },
          reply.headers,
        );
      }
      if (user !== accountSid || pass !== authToken) {
        return json(401, { code: 20003, message: 'Authenticate', more_info: '', status: 401 });
      }
      if (req.url !== `/2010-04-01/Accounts/${accountSid}/Messages.json` || req.method !== 'POST') {
        return json(404, { code: 20404, message: 'not found', status: 404 });
      }
      json(201, {
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
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    get authToken() {
      return authToken;
    },
    set authToken(token: string) {
      authToken = token;
    },
    requests,
    script: (...replies) => queue.push(...replies),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
