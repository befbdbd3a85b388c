import type { StepSlot } from '../connector.js';
import type { RateStore } from './store.js';

/**
 * Leases the step's slot afresh as an attempt starts, so the lease outlasts this attempt (its
 * timeout and a margin). The workflow took the slot on durable timers; only an attempt whose lease
 * ran out meanwhile (a long retry backoff) and found every slot taken waits here, as long as its
 * signal allows.
 */
export async function holdSlot(
  store: Pick<RateStore, 'acquire'> | undefined,
  slot: StepSlot | undefined,
  signal: AbortSignal,
): Promise<void> {
  if (!store || !slot) return;
  for (
    let waitMs = await store.acquire(slot.key, slot.holder, slot.limit, slot.leaseMs);
    waitMs > 0;
    waitMs = await store.acquire(slot.key, slot.holder, slot.limit, slot.leaseMs)
  ) {
    await pause(Math.min(waitMs, 250), signal);
  }
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts; leaves no listener behind. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
