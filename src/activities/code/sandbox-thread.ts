import { parentPort, workerData } from 'node:worker_threads';
import type { CodeAnswer, CodeJob } from './job.js';
import { loadQuickJS, runCode } from './quickjs.js';

/*
 * A sandbox thread: one QuickJS module in a bounded WebAssembly memory, one call at a time. The
 * host kills the thread when a call outlives its time limit by the grace period (QuickJS polls its
 * interrupt handler only between operations, and one native operation can take long).
 */
const memoryMb = typeof workerData === 'number' ? workerData : 64;
const { module, memory } = await loadQuickJS(memoryMb);
/** WebAssembly memory never shrinks: a thread whose memory grew past this ends after its call. */
const retireBytes = (16 + memoryMb / 2) * 1024 * 1024;

parentPort?.on('message', (message: { id: number; job: CodeJob }) => {
  let answer: CodeAnswer;
  parentPort?.postMessage({ id: message.id, started: true });
  try {
    answer = runCode(module, message.job, memoryMb);
  } catch (err) {
    // The host failed around QuickJS (its native stack, a trap): this module may be damaged, so
    // the thread answers and ends; the host starts a fresh one.
    const overflow = err instanceof RangeError;
    answer = {
      ok: false,
      error: overflow
        ? { code: 'CODE_LIMIT', limit: 'stack', message: 'the code nested past its stack limit' }
        : { code: 'CODE_SANDBOX_FAULT', message: `the sandbox failed: ${String(err)}` },
    };
    parentPort?.postMessage({ id: message.id, answer, final: true });
    parentPort?.close();
    return;
  }
  const retire = memory.buffer.byteLength > retireBytes;
  parentPort?.postMessage({ id: message.id, answer, ...(retire ? { final: true } : {}) });
  if (retire) parentPort?.close();
});
