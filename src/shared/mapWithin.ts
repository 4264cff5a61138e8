/**
 * `Promise.all(items.map(fn))` with at most `limit` calls running at once: a batch of 500 rows
 * must not open 500 context files (and hold 500 texts) at the same time. Results keep the order.
 */
export async function mapWithin<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
