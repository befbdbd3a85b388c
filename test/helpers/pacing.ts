import assert from 'node:assert/strict';

/**
 * Slack for reading one machine's clock from different processes (the worker that paces, the
 * receiver that stamps): millisecond rounding and timers that fire a little early.
 */
export const PACING_TOLERANCE_MS = 100;

/**
 * Asserts that requests were paced at no more than `perSecond`, over the whole series: a limit
 * that lets at most `perSecond` go in any second needs at least floor((n - 1) / perSecond) seconds
 * for n requests, counted from `since`, a moment before the first could be admitted. The times are
 * the receiver's. A slow machine only stretches the series, so it cannot fail this; a limit that
 * let everything through at once fails it on a machine of any speed that sends n in less time.
 */
export function assertPacedAtMost(times: readonly number[], perSecond: number, since: number): void {
  assert.ok(times.length > 0, 'no request to measure');
  const span = Math.max(...times) - since;
  const least = Math.floor((times.length - 1) / perSecond) * 1000;
  const rate = ((times.length - 1) / Math.max(span, 1)) * 1000;
  assert.ok(
    span >= least - PACING_TOLERANCE_MS,
    `${times.length} requests at ${perSecond}/s need ${least} ms at least, took ${span} ms (${rate.toFixed(1)}/s): ${times
      .map((t) => t - since)
      .join(', ')} ms after the start`,
  );
}
