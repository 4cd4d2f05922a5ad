import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ConsoleHandler } from './types.js';

/** The Node request shape the Express, Fastify and NestJS mounts pass on. */
export interface NodeRequestLike {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers: IncomingMessage['headers'];
  /** A body already parsed by the framework (Express `json()`, Fastify): re-encoded as JSON. */
  body?: unknown;
}

/**
 * Turns a Node request into a Fetch `Request`: the URL from `originalUrl` (the full path under any mount)
 * and the Host header, the body from the stream (or from a body the framework already parsed), and an
 * abort signal fired when the client goes away (it ends the live stream).
 *
 * @example
 * ```ts
 * server.on('request', async (req, res) => sendFetchResponse(await console(toFetchRequest(req, res)), res));
 * ```
 */
export function toFetchRequest(
  req: NodeRequestLike & Partial<IncomingMessage>,
  res: ServerResponse,
): Request {
  const host = req.headers.host ?? 'localhost';
  const encrypted = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  const url = new URL(req.originalUrl ?? req.url ?? '/', `${encrypted ? 'https' : 'http'}://${host}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const method = (req.method ?? 'GET').toUpperCase();
  const controller = new AbortController();
  res.once('close', () => controller.abort());
  let body: BodyInit | undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    if (req.body !== undefined && req.body !== null) {
      body =
        typeof req.body === 'string' || req.body instanceof Uint8Array
          ? (req.body as string)
          : JSON.stringify(req.body);
      headers.delete('content-length');
    } else if (typeof req.on === 'function' && req.readable) {
      body = Readable.toWeb(req as unknown as Readable) as unknown as BodyInit;
    }
  }
  return new Request(url, {
    method,
    headers,
    body,
    signal: controller.signal,
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
}

/**
 * Writes a Fetch `Response` to a Node response, streaming its body (the live stream stays open).
 *
 * @example
 * ```ts
 * await sendFetchResponse(await console(toFetchRequest(req, res)), res);
 * ```
 */
export async function sendFetchResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie') continue;
    res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (!response.body) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  res.once('close', () => void reader.cancel().catch(() => {}));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
  } catch {
    // the client went away
  } finally {
    res.end();
  }
}

/**
 * A Node `(req, res)` handler over the console, for any framework built on `node:http`.
 *
 * @example
 * ```ts
 * http.createServer(nodeConsole(console)).listen(3000);
 * ```
 */
export function nodeConsole(handler: ConsoleHandler) {
  return async (req: IncomingMessage & { body?: unknown; originalUrl?: string }, res: ServerResponse) => {
    const response = await handler(toFetchRequest(req, res));
    await sendFetchResponse(response, res);
  };
}
