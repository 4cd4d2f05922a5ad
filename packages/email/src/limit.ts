/**
 * Runs `worker` over `items` with at most `concurrency` running at once, and resolves when all are done.
 * Workers pull from a shared queue, so a slow item never holds a slot idle.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  concurrency: number,
  worker: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) {
      const index = next++;
      await worker(items[index] as T, index);
    }
  });
  await Promise.all(lanes);
}
