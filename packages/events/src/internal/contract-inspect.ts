import { EventsErrorCode } from '../errors.js';
import { kit, type Suite } from './contract-kit.js';

/**
 * The contract of the optional inspection capabilities (`streamLength`, `consumerGroups`,
 * `deleteDeadLetters`), run through the bus. An adapter without them switches the suite off with
 * `features: { inspection: false }`.
 *
 * @example
 * ```ts
 * if (o.has('inspection')) inspectionSuite(o);
 * ```
 */
export function inspectionSuite(o: Suite): void {
  const { wait, withBus } = kit(o);
  const { expect } = o;
  o.describe('inspection (streamLength, consumerGroups, deleteDeadLetters)', () => {
    o.it(
      'reports the length of a log and the groups reading it, with pending and lag',
      async () => {
        await withBus(async (bus, t) => {
          const name = `${t}.inspected`;
          expect(
            typeof bus.streamLength,
            'the transport lacks streamLength: set features.inspection false',
          ).toBe('function');
          expect(await bus.streamLength!(name)).toBe(0);
          expect(await bus.consumerGroups!(name)).toEqual([]);
          await bus.publishMany([0, 1, 2].map((n) => ({ name, data: { n } })));
          expect(await bus.streamLength!(name)).toBe(3);

          let release!: () => void;
          const gate = new Promise<void>((resolve) => {
            release = resolve;
          });
          const seen: number[] = [];
          await bus.subscribe(
            name,
            async (e) => {
              seen.push(e.data.n);
              await gate;
            },
            { group: `${t}-slow`, startAt: 'earliest', concurrency: 1 },
          );
          // One delivery is held by the blocked handler: the group has it pending.
          await wait(() => expect(seen).toEqual([0]));
          const [busy] = await bus.consumerGroups!(name);
          expect(busy).toMatchObject({ name, group: `${t}-slow` });
          expect(busy!.pending).toBeGreaterThanOrEqual(1);
          release();
          await wait(() => expect(seen).toEqual([0, 1, 2]));
          await wait(async () => {
            const groups = await bus.consumerGroups!(name);
            expect(groups).toHaveLength(1);
            expect(groups[0]).toMatchObject({ group: `${t}-slow`, pending: 0 });
            expect([0, undefined]).toContain(groups[0]!.lag);
          });
          await expect(bus.streamLength!('')).rejects.toMatchObject({
            code: EventsErrorCode.INVALID_ARGUMENT,
          });
        });
      },
      o.timeoutMs,
    );

    o.it(
      'deletes dead letters by id (each once, even when two deletes race) or all of them',
      async () => {
        await withBus(async (bus, t) => {
          const name = `${t}.doomed`;
          const group = `${t}-doomed`;
          expect(typeof bus.deleteDeadLetters).toBe('function');
          await bus.subscribe(
            name,
            () => {
              throw new Error('never works');
            },
            { group, retry: { maxAttempts: 1 } },
          );
          await bus.publishMany([1, 2, 3].map((n) => ({ name, data: { n } })));
          await wait(async () => expect(await bus.listDeadLetters(group)).toHaveLength(3));
          const letters = await bus.listDeadLetters(group);
          const first = letters[0]!.deadLetterId;
          // Two operators delete the same letter at once: it is deleted once.
          const raced = await Promise.all([
            bus.deleteDeadLetters!(group, [first]),
            bus.deleteDeadLetters!(group, [first]),
          ]);
          expect(raced[0]! + raced[1]!).toBe(1);
          const left = await bus.listDeadLetters(group);
          expect(left.map((d) => d.deadLetterId)).toEqual(letters.slice(1).map((d) => d.deadLetterId));
          expect(await bus.deleteDeadLetters!(group, [])).toBe(0);
          expect(await bus.deleteDeadLetters!(`${t}-nobody`)).toBe(0);
          await expect(bus.deleteDeadLetters!('', [first])).rejects.toMatchObject({
            code: EventsErrorCode.INVALID_ARGUMENT,
          });
          expect(await bus.deleteDeadLetters!(group)).toBe(2);
          expect(await bus.listDeadLetters(group)).toEqual([]);
          // Deleted, not replayed: the log itself is untouched.
          expect(await bus.streamLength!(name)).toBe(3);
        });
      },
      o.timeoutMs,
    );
  });
}
