/** What pushing triggers through the APIs gave: run id per idempotency key, and how often a call had to be repeated. */
export interface PushResult {
  runIds: Map<string, string>;
  retried: number;
}

/**
 * Pushes `count` triggers, `inFlight` at a time, alternating between `apiUrls`. Each trigger has its
 * own Idempotency-Key and is repeated (on the next API) until acknowledged with 202, as a client
 * of an at-least-once API does; `onAcked(n)` sees the running count, to inject faults midway.
 */
export async function pushTriggers(opts: {
  apiUrls: readonly string[];
  path: string;
  token: string;
  count: number;
  inFlight: number;
  deadlineMs: number;
  onAcked?: (acked: number) => void;
}): Promise<PushResult> {
  const runIds = new Map<string, string>();
  let retried = 0;
  let nextIndex = 0;
  let turn = 0;
  const deadline = Date.now() + opts.deadlineMs;
  const one = async (i: number): Promise<void> => {
    const key = `cluster-${i}`;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`trigger ${key} was not acknowledged in time`);
      const url = opts.apiUrls[turn++ % opts.apiUrls.length];
      const res = await fetch(`${url}${opts.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ n: i }),
        signal: AbortSignal.timeout(15_000),
      }).catch(() => undefined);
      const body: unknown = res ? await res.json().catch(() => undefined) : undefined;
      if (
        res?.status === 202 &&
        typeof body === 'object' &&
        body !== null &&
        'runId' in body &&
        typeof body.runId === 'string'
      ) {
        runIds.set(key, body.runId);
        opts.onAcked?.(runIds.size);
        return;
      }
      retried++;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const lane = async (): Promise<void> => {
    while (nextIndex < opts.count) await one(nextIndex++);
  };
  await Promise.all(Array.from({ length: opts.inFlight }, lane));
  return { runIds, retried };
}
