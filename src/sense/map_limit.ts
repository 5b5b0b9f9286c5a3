/**
 * Maps `items` through an async `fn` with at most `limit` calls in flight, keeping the
 * order of `items` in the result. Bounds the number of file reads the agent has queued
 * at once (Deno runs each on a blocking thread), which matters on a node short of memory.
 * The first rejection of `fn` rejects the result and stops starting new calls.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers: Promise<void>[] = [];
  const count = Math.min(Math.max(1, Math.floor(limit)), items.length);
  for (let i = 0; i < count; i++) workers.push(worker());
  await Promise.all(workers);
  return results;
}
