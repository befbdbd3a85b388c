/**
 * Group commit: `write` takes many items in one statement, and the returned function takes them one
 * by one. One statement is in flight at a time; items that arrive meanwhile wait for it and go
 * together in the next (at most `max`), so under load a statement carries many rows and when idle
 * each item goes at once. A caller's promise settles with the statement that carried its item. A
 * failed statement of several items is retried item by item, so a bad item fails only its caller.
 */
export function batched<T>(write: (items: T[]) => Promise<unknown>, max = 500): (item: T) => Promise<void> {
  const queue: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  let flushing = false;

  const settle = async (batch: typeof queue) => {
    try {
      await write(batch.map((q) => q.item));
      for (const q of batch) q.resolve();
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else await Promise.all(batch.map((q) => settle([q])));
    }
  };

  const flush = async () => {
    flushing = true;
    while (queue.length > 0) await settle(queue.splice(0, max));
    flushing = false;
  };

  return (item) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!flushing) void flush();
    });
}
