import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request a fake server received. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A failure to inject: an HTTP error (status, headers, body), a hang, or a dropped connection. */
export type Fault =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { hang: true }
  | { drop: true };

/** A routed answer. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** A running fake server. */
export interface FakeServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Most sockets open at the same time. */
  readonly maxOpenSockets: number;
  /** Most requests being handled at the same time. */
  readonly maxInFlight: number;
  /** Makes the next requests fail, one fault each, in order. */
  fail(...faults: Fault[]): void;
  /** Requests whose parsed JSON body is returned. */
  json<T = Record<string, unknown>>(): T[];
  /** Forgets the requests and pending faults. */
  reset(): void;
  /** Stops the server, dropping open and hung connections. */
  close(): Promise<void>;
}

/** Answers one request of a route (`'POST /v3/mail/send'`). */
export type FakeRoute = (req: RecordedRequest) => Reply;

/** Options of {@link startFakeHttpServer}. */
export interface FakeHttpServerOptions {
  /** Delay before each routed answer, in ms (faults answer at once). @default 0 */
  delayMs?: number;
  /** The answer to a request no route matches. @default 404 `{ message: 'no such route' }` */
  notFound?: Reply;
  /** Called with every request as it is recorded (faulted ones too). @default undefined */
  onRequest?: ((req: RecordedRequest) => void) | undefined;
}

/**
 * A local HTTP server that plays a provider's API for tests and benchmarks: it records every request
 * exactly as the SDK sent it, answers by route (`'METHOD /path'`, query ignored), and injects failures on
 * demand (`fail`: an HTTP error with headers such as `Retry-After`, a hang for timeouts, a dropped
 * connection). `@app/email`'s SES and SendGrid fakes and `@app/sms`'s Twilio fake are built on it.
 *
 * @example
 * ```ts
 * const fake = await startFakeHttpServer({ 'POST /send': () => ({ status: 202, body: { id: 'm1' } }) });
 * fake.fail({ status: 503 }); // the next request gets a 503
 * ```
 */
export async function startFakeHttpServer(
  routes: Readonly<Record<string, FakeRoute>>,
  options: FakeHttpServerOptions = {},
): Promise<FakeServer> {
  const delayMs = options.delayMs ?? 0;
  const notFound = options.notFound ?? { status: 404, body: { message: 'no such route' } };
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
      options.onRequest?.(recorded);
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
      const reply = route ? route(recorded) : notFound;
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
