import type { ContractTestApi } from '@app/core/testing';

/** What {@link storeTest} reads of a resolved contract: the test API, the factory and the timeout. */
interface StoreSuite<S> {
  it: ContractTestApi['it'];
  create: () => S | Promise<S>;
  timeoutMs: number;
}

/**
 * One contract test on a fresh store (closed afterwards, pass or fail) and a fresh id, with the suite's
 * timeout; skipped, visibly, when `run` is false. Shared by the idempotency and status store contracts.
 *
 * @example
 * ```ts
 * storeTest(o, () => freshKey(), 'answers undefined for a new key', async (store, key) => { ... });
 * ```
 */
export function storeTest<S extends { close(): Promise<void> }>(
  o: StoreSuite<S>,
  freshId: () => string,
  title: string,
  body: (store: S, id: string) => Promise<void>,
  run = true,
): void {
  const once = async () => {
    const store = await o.create();
    await body(store, freshId()).finally(() => store.close());
  };
  o.it.skipIf(!run)(title, once, o.timeoutMs);
}
