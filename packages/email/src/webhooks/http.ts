/** What a webhook handler needs from an HTTP request: its headers and the body exactly as received. */
export interface WebhookRequest {
  /** Node's `req.headers`, a fetch `Headers`, or a plain object; names are matched case-insensitively. */
  headers: Headers | Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The raw body. Signatures cover these bytes: never pass a re-serialised JSON object. */
  rawBody: string | Uint8Array;
}

/** What a webhook handler answers: send it back as the HTTP response. */
export interface WebhookResponse {
  status: number;
  body: string;
}

/** A framework-agnostic webhook handler: `(request) => response`. */
export type WebhookHandler = (request: WebhookRequest) => Promise<WebhookResponse>;

export function header(headers: WebhookRequest['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(
    headers as Record<string, string | readonly string[] | undefined>,
  )) {
    if (key.toLowerCase() === wanted) return typeof value === 'string' ? value : value?.[0];
  }
  return undefined;
}

export function bodyText(raw: string | Uint8Array): string {
  return typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
}

export const reply = (status: number, body: Record<string, unknown>): WebhookResponse => ({
  status,
  body: JSON.stringify(body),
});

/**
 * Adapts a {@link WebhookHandler} to the fetch API (Hono, Next.js route handlers, Bun, Deno, workers).
 *
 * @example
 * ```ts
 * export const POST = toFetchHandler(createSendgridWebhookHandler({ publicKey, store }));
 * ```
 */
export function toFetchHandler(handler: WebhookHandler): (request: Request) => Promise<Response> {
  return async (request) => {
    const rawBody = new Uint8Array(await request.arrayBuffer());
    const res = await handler({ headers: request.headers, rawBody });
    return new Response(res.body, { status: res.status, headers: { 'content-type': 'application/json' } });
  };
}
