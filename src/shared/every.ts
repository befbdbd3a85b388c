/**
 * Runs `tick` now and again `intervalMs` after each one ends, while `alive()`; `stop()` ends the
 * loop and waits for the tick under way, and `onEnd` runs once the loop has ended either way.
 * `tick` handles its own failures. The timer never keeps the process alive on its own.
 * @example every(2_000, () => reconcile().catch(log), () => worker.getState() === 'RUNNING')
 */
export function every(
  intervalMs: number,
  tick: () => Promise<void>,
  { alive = () => true, onEnd }: { alive?: () => boolean; onEnd?: () => Promise<void> } = {},
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const end = async (): Promise<void> => {
    await onEnd?.().catch(() => undefined);
  };
  const loop = async (): Promise<void> => {
    if (stopped || !alive()) return end();
    await tick();
    if (stopped || !alive()) return end();
    timer = setTimeout(() => (current = loop()), intervalMs);
    timer.unref();
  };
  current = loop();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
