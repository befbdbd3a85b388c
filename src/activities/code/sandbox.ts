import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CodeAnswer, CodeJob } from './job.js';

/** How long past its time limit a call may run before its thread is killed. */
const KILL_GRACE_MS = 1000;
/**
 * How long a call may wait for its thread to take it up: a new thread first loads QuickJS, which
 * takes seconds on a busy machine, and that time is not the code's. Past this, the thread is taken
 * for stuck and the call fails as a fault.
 */
const THREAD_START_MS = 60_000;
/** Native stack of a sandbox thread: far above QuickJS's own bound, so QuickJS trips first. */
const THREAD_STACK_MB = 32;
/** The thread's own JavaScript heap: the call's context and result pass through it. */
const THREAD_HEAP_MB = 512;

const THREAD_URL = new URL(`./sandbox-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
// A build runs the .js beside this file. Run from TypeScript (tsx), the thread registers tsx
// first: Node 20 does not hand a process's module hooks to its worker threads.
const THREAD_ENTRY = THREAD_URL.pathname.endsWith('.ts')
  ? {
      entry: `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(THREAD_URL.href)}); });`,
      eval: true,
    }
  : { entry: THREAD_URL, eval: false };

/** A thread's word on a call: it has `started` it (its time limit runs from here), or its answer; `final` when the thread ends after it. */
type ThreadMessage = { id: number; started: true } | { id: number; answer: CodeAnswer; final?: boolean };

interface Slot {
  worker: Worker;
  pending?: { id: number; resolve: (answer: CodeAnswer) => void; timer: NodeJS.Timeout; maxMs: number };
}

/**
 * Sandbox threads for code steps: up to `size` threads, each running one call at a time, so a step
 * never blocks the worker's event loop. A thread whose call outlives its time limit plus a grace
 * period is terminated, and one that fails around QuickJS ends itself; either way the call fails,
 * a new thread takes its place, and the process keeps serving.
 */
export class CodeSandbox {
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly queue: { job: CodeJob; resolve: (answer: CodeAnswer) => void }[] = [];
  private nextId = 0;

  constructor(
    readonly memoryMb: number,
    readonly size = Math.min(4, Math.max(1, availableParallelism())),
  ) {}

  /** Runs one call; the answer is never a rejection. A call still queued when `signal` aborts is dropped. */
  run(job: CodeJob, signal?: AbortSignal): Promise<CodeAnswer> {
    return new Promise((resolve) => {
      const slot = this.idle.pop() ?? (this.slots.size < this.size ? this.spawn() : undefined);
      if (slot) return this.dispatch(slot, job, resolve);
      const queued = { job, resolve };
      this.queue.push(queued);
      signal?.addEventListener('abort', () => {
        const at = this.queue.indexOf(queued);
        if (at < 0) return;
        this.queue.splice(at, 1);
        resolve(fault('the step ended before a sandbox thread was free'));
      });
    });
  }

  private spawn(): Slot {
    const worker = new Worker(THREAD_ENTRY.entry, {
      eval: THREAD_ENTRY.eval,
      workerData: this.memoryMb,
      resourceLimits: { stackSizeMb: THREAD_STACK_MB, maxOldGenerationSizeMb: THREAD_HEAP_MB },
    });
    const slot: Slot = { worker };
    worker.on('message', (message: ThreadMessage) => this.answered(slot, message));
    worker.on('error', (err) => void this.drop(slot, threadFailure(err)));
    worker.on('exit', () => void this.drop(slot, fault('the sandbox thread ended')));
    // After the listeners: adding a 'message' listener refs the thread's port again.
    worker.unref();
    this.slots.add(slot);
    return slot;
  }

  private dispatch(slot: Slot, job: CodeJob, resolve: (answer: CodeAnswer) => void): void {
    const id = this.nextId++;
    const timer = setTimeout(
      () => void this.drop(slot, fault('the sandbox thread did not start the call')),
      THREAD_START_MS,
    );
    slot.pending = { id, resolve, timer, maxMs: job.maxMs };
    slot.worker.postMessage({ id, job });
  }

  private answered(slot: Slot, message: ThreadMessage): void {
    const pending = slot.pending;
    if (!pending || pending.id !== message.id) return;
    clearTimeout(pending.timer);
    if ('started' in message) {
      pending.timer = setTimeout(() => {
        void this.drop(slot, {
          ok: false,
          error: { code: 'CODE_LIMIT', limit: 'time', message: 'the code ran past its time limit' },
        });
      }, pending.maxMs + KILL_GRACE_MS);
      return;
    }
    slot.pending = undefined;
    pending.resolve(message.answer);
    if (message.final) void this.drop(slot, fault('the sandbox thread ended'));
    else if (this.slots.has(slot)) this.release(slot);
  }

  private release(slot: Slot): void {
    const next = this.queue.shift();
    if (next) this.dispatch(slot, next.job, next.resolve);
    else this.idle.push(slot);
  }

  /** Ends a thread: its call, if any, fails with `answer`, and a queued call gets a new thread. */
  private async drop(slot: Slot, answer: CodeAnswer): Promise<void> {
    if (!this.slots.delete(slot)) return;
    const at = this.idle.indexOf(slot);
    if (at >= 0) this.idle.splice(at, 1);
    const pending = slot.pending;
    slot.pending = undefined;
    if (pending) {
      clearTimeout(pending.timer);
      pending.resolve(answer);
    }
    const next = this.queue.shift();
    if (next) this.dispatch(this.spawn(), next.job, next.resolve);
    await slot.worker.terminate();
  }
}

const fault = (message: string): CodeAnswer => ({ ok: false, error: { code: 'CODE_SANDBOX_FAULT', message } });

/** A thread that died of its heap limit broke the memory bound; anything else is a fault. */
function threadFailure(err: Error): CodeAnswer {
  if ('code' in err && err.code === 'ERR_WORKER_OUT_OF_MEMORY')
    return {
      ok: false,
      error: { code: 'CODE_LIMIT', limit: 'memory', message: 'the code ran out of its memory limit' },
    };
  return fault(`the sandbox thread failed: ${err.message}`);
}

const sandboxes = new Map<number, CodeSandbox>();

/** The process's sandbox threads for a memory limit, started as calls need them. */
export function sharedSandbox(memoryMb: number): CodeSandbox {
  let sandbox = sandboxes.get(memoryMb);
  if (!sandbox) {
    sandbox = new CodeSandbox(memoryMb);
    sandboxes.set(memoryMb, sandbox);
  }
  return sandbox;
}
