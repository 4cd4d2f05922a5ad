import type { EventSink } from '@app/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createEventBus } from './index.js';

interface Events {
  'user.registered': { userId: string; email: string };
  'user.deleted': { userId: string };
  'order.placed': { orderId: string; total: number };
}

describe('types', () => {
  it('types payloads by event name, and pattern handlers by the names they match', async () => {
    const bus = createEventBus<Events>();
    await bus.subscribe('user.registered', (event) => {
      expectTypeOf(event.data).toEqualTypeOf<{ userId: string; email: string }>();
      expectTypeOf(event.name).toEqualTypeOf<'user.registered'>();
    });
    await bus.subscribePattern('user.*', (event) => {
      expectTypeOf(event.name).toEqualTypeOf<'user.registered' | 'user.deleted'>();
      if (event.name === 'user.registered') expectTypeOf(event.data.email).toBeString();
    });
    // @ts-expect-error wrong payload
    await expect(bus.publish('order.placed', { orderId: 'o1' })).resolves.toBeDefined();
    // @ts-expect-error unknown event
    await expect(bus.publish('nope', {})).resolves.toBeDefined();
    await bus.close();
  });

  it('fits EventSink from @app/core, typed or not', async () => {
    const typed: EventSink = createEventBus<Events>();
    const untyped: EventSink = createEventBus();
    await expect(untyped.publish('otp.sent', { channel: 'sms' }, '@app/otp')).resolves.toMatchObject({
      name: 'otp.sent',
      source: '@app/otp',
    });
    expect(typeof typed.publish).toBe('function');
  });
});
