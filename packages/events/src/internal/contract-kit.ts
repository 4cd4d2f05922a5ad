import type { ResolvedContractOptions } from '@app/core/testing';
import { createEventBus } from '../bus.js';
import type { EventBus } from '../bus-types.js';
import type { EventTransportCapability, RawEventEntry } from '../testing.js';
import type { EventTransport } from '../types.js';

/** The contract suite's resolved options. */
export type Suite = ResolvedContractOptions<
  EventTransport,
  readonly RawEventEntry[],
  EventTransportCapability
>;
/** Events of the contract tests: every payload is `{ n }`. */
export type AnyEvents = Record<string, { n: number }>;

/**
 * Polls `check` until it stops throwing, or throws its last error after `timeoutMs`. Waiting is bounded;
 * nothing here asserts how long anything took.
 *
 * @example
 * ```ts
 * await eventually(() => expect(seen).toHaveLength(3));
 * ```
 */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

let counter = 0;
/** A tag unique to one test, for its event and group names. */
export const tag = () =>
  `${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** Helpers every sub-suite uses: a bus over a fresh transport, and a bounded wait. */
export function kit(o: Suite) {
  const wait = (check: () => void | Promise<void>) => eventually(check, Math.max(1000, o.timeoutMs / 2));
  async function withBus(fn: (bus: EventBus<AnyEvents>, t: string) => Promise<void>): Promise<void> {
    const bus = createEventBus<AnyEvents>({
      transport: await o.create(),
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    });
    try {
      await fn(bus, tag());
    } finally {
      await bus.close();
    }
  }
  return { wait, withBus };
}
