import type { ChildProcess } from 'node:child_process';

/**
 * How long the suite waits for a server it starts (Temporal, PostgreSQL, Redis, the OIDC provider)
 * to answer: a loaded 2-core machine is slow, and only a server that never starts should fail.
 * The Kafka broker, a JVM, gets longer.
 */
export const START_PATIENCE_MS = 60_000;

/** Keeps the last `max` characters a child wrote (stdout and stderr), for the error when it does not start. */
export function keepOutput(child: ChildProcess, max = 20_000): () => string {
  let output = '';
  const keep = (chunk: Buffer) => void (output = (output + chunk.toString()).slice(-max));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => output;
}

/** The last `count` lines of a component's output, quoted in a start failure. */
export function lastLines(output: string, count = 40): string {
  const text = output.trimEnd();
  return text ? text.split('\n').slice(-count).join('\n') : '(no output)';
}

/**
 * Polls `answers` until it says yes, for up to `timeoutMs`. Fails at once if `child` exited, and
 * after the bound if it never answered, either way quoting the last lines of its output.
 */
export async function untilStarted(
  what: string,
  answers: () => Promise<boolean>,
  opts: { child?: ChildProcess; output: () => string; timeoutMs?: number },
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? START_PATIENCE_MS;
  const deadline = Date.now() + timeoutMs;
  const fail = (why: string) => new Error(`${what} ${why}; last lines of its output:\n${lastLines(opts.output())}`);
  for (;;) {
    const child = opts.child;
    if (child && (child.exitCode !== null || child.signalCode !== null))
      throw fail(`exited (${child.exitCode ?? child.signalCode}) before it answered`);
    if (await answers().catch(() => false)) return;
    if (Date.now() >= deadline) throw fail(`did not answer within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
