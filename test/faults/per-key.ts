import assert from 'node:assert/strict';
import type { Receiver } from '../helpers/receiver.js';

// A request reaches the receiver a moment after the process that sent it may have been seen to exit.
const DELIVERY_SLACK_MS = 100;

/** How often each idempotency key reached a receiver path, and when it first arrived. */
export function countsPerKey(receiver: Receiver, path: string): Map<string, { count: number; firstAt: number }> {
  const counts = new Map<string, { count: number; firstAt: number }>();
  for (const r of receiver.requestsTo(path)) {
    const key = String(r.headers['idempotency-key']);
    const seen = counts.get(key);
    counts.set(key, { count: (seen?.count ?? 0) + 1, firstAt: Math.min(seen?.firstAt ?? r.at, r.at) });
  }
  return counts;
}

/**
 * Asserts that each expected key reached `path`, and no other key did, and that each arrived exactly
 * once unless a fault could legitimately repeat it: a request whose result may not have been recorded
 * when a process died is sent again, at most once per such fault. `faultEnds` are the moments each
 * fault ended (the killed worker seen to exit, the killed server back); a request that first arrived
 * after the last of them must have arrived exactly once.
 * @returns the measured counts, for the fault table
 */
export function assertOncePerKey(
  receiver: Receiver,
  path: string,
  expectedKeys: readonly string[],
  faultEnds: readonly number[] = [],
) {
  const counts = countsPerKey(receiver, path);
  assert.deepEqual(
    [...counts.keys()].sort(),
    [...expectedKeys].sort(),
    `every expected key reached ${path}, and no other`,
  );
  let repeated = 0;
  for (const [key, { count, firstAt }] of counts) {
    const faultsAfter = faultEnds.filter((end) => end + DELIVERY_SLACK_MS >= firstAt).length;
    assert.ok(
      count <= 1 + faultsAfter,
      `${key} reached ${path} ${count} times; at most ${1 + faultsAfter} (faults after its first request: ${faultsAfter})`,
    );
    repeated += count - 1;
  }
  const max = Math.max(0, ...[...counts.values()].map((c) => c.count));
  return { requests: receiver.requestsTo(path).length, keys: counts.size, repeated, maxPerKey: max };
}
