import { redact } from './redact.js';

/** How long updates of one section are gathered into one server-sent event. */
export const LIVE_COALESCE_MS = 250;
/** How often an idle stream gets a comment line, so proxies keep it open. */
export const LIVE_HEARTBEAT_MS = 15_000;

interface Client {
  topics: ReadonlySet<string>;
  send(chunk: string): void;
  end(): void;
}

/** The live updates: one server-sent-event stream per open console page, fed by every section. */
export interface LiveHub {
  /** Sends `data` to every stream allowed to read `topic` (updates within {@link LIVE_COALESCE_MS} merge). */
  publish(topic: string, data: unknown): void;
  /** A `text/event-stream` response carrying the topics given, until the request is aborted or the hub closes. */
  stream(request: Request, topics: readonly string[]): Response;
  /** Ends every stream. */
  close(): void;
}

/**
 * Creates the live hub. Each update names what changed (a flag, a key, an event name), never a value:
 * the page then refetches the section it shows, so live updates go through the same guard and redaction.
 */
export function createLiveHub(): LiveHub {
  const clients = new Set<Client>();
  const pending = new Map<string, unknown[]>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const encoder = new TextEncoder();

  const flush = () => {
    timer = undefined;
    for (const [topic, items] of pending) {
      const chunk = `event: ${topic}\ndata: ${JSON.stringify(redact(items.slice(-20)))}\n\n`;
      for (const client of clients) if (client.topics.has(topic)) client.send(chunk);
    }
    pending.clear();
  };

  const ensureHeartbeat = () => {
    if (heartbeat || clients.size === 0) return;
    heartbeat = setInterval(() => {
      for (const client of clients) client.send(': keep-alive\n\n');
    }, LIVE_HEARTBEAT_MS);
    heartbeat.unref?.();
  };

  return {
    publish(topic, data) {
      if (clients.size === 0) return;
      const items = pending.get(topic) ?? [];
      items.push(data);
      pending.set(topic, items);
      if (!timer) {
        timer = setTimeout(flush, LIVE_COALESCE_MS);
        timer.unref?.();
      }
    },
    stream(request, topics) {
      let client: Client | undefined;
      const remove = () => {
        if (!client) return;
        clients.delete(client);
        client.end();
        client = undefined;
        if (clients.size === 0 && heartbeat) {
          clearInterval(heartbeat);
          heartbeat = undefined;
        }
      };
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          let open = true;
          client = {
            topics: new Set(topics),
            send(chunk) {
              if (!open) return;
              try {
                controller.enqueue(encoder.encode(chunk));
              } catch {
                open = false;
              }
            },
            end() {
              if (!open) return;
              open = false;
              try {
                controller.close();
              } catch {
                // already closed by the reader going away
              }
            },
          };
          clients.add(client);
          ensureHeartbeat();
          controller.enqueue(
            encoder.encode(`retry: 3000\nevent: ready\ndata: ${JSON.stringify(topics)}\n\n`),
          );
          if (request.signal.aborted) remove();
          else request.signal.addEventListener('abort', remove, { once: true });
        },
        cancel: remove,
      });
      return new Response(body, {
        headers: {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          'x-accel-buffering': 'no',
        },
      });
    },
    close() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending.clear();
      for (const client of [...clients]) client.end();
      clients.clear();
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = undefined;
    },
  };
}
