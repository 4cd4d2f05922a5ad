// Local HTTP fakes of the SendGrid and SES v2 APIs, for tests and the benchmark. They record every request
// exactly as the SDK sent it and can inject failures: an HTTP error with headers, a hang (for timeouts), or
// a dropped connection.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Fault =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { hang: true }
  | { drop: true };

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FakeServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Most sockets open at the same time. */
  readonly maxOpenSockets: number;
  /** Most requests being handled at the same time. */
  readonly maxInFlight: number;
  /** Makes the next requests fail, one fault each, in order. */
  fail(...faults: Fault[]): void;
  /** Requests whose parsed JSON body is returned. */
  json<T = Record<string, unknown>>(): T[];
  reset(): void;
  close(): Promise<void>;
}

type Route = (req: RecordedRequest) => Reply;

async function startFake(routes: Record<string, Route>, delayMs = 0): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  const sockets = new Set<Socket>();
  const hung = new Set<ServerResponse>();
  let open = 0;
  let maxOpen = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  const send = (res: ServerResponse, reply: Reply) => {
    const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.on('close', () => inFlight--);
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const fault = faults.shift();
      if (fault && 'hang' in fault) {
        hung.add(res);
        return;
      }
      if (fault && 'drop' in fault) {
        req.socket.destroy();
        return;
      }
      if (fault) return send(res, fault);
      const route = routes[`${req.method} ${(req.url ?? '').split('?')[0]}`];
      const reply = route ? route(recorded) : { status: 404, body: { message: 'no such route' } };
      if (delayMs > 0) setTimeout(() => send(res, reply), delayMs);
      else send(res, reply);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    open++;
    maxOpen = Math.max(maxOpen, open);
    socket.on('close', () => {
      sockets.delete(socket);
      open--;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get maxOpenSockets() {
      return maxOpen;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    fail: (...f) => faults.push(...f),
    json: <T>() => requests.map((r) => JSON.parse(r.body) as T),
    reset() {
      requests.length = 0;
      faults.length = 0;
      maxOpen = open;
      maxInFlight = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hung) res.destroy();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

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
    options.delayMs,
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
    options.delayMs,
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
