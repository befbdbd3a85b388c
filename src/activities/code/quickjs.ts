import * as releaseSync from '@jitl/quickjs-wasmfile-release-sync';
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import type { CodeAnswer, CodeJob, CodeLimit } from './job.js';

/** QuickJS's own stack bound; the thread's native stack is far larger, so QuickJS trips first. */
export const CODE_STACK_BYTES = 512 * 1024;
/** What an empty QuickJS heap (its static data, its stack) takes of the WebAssembly memory. */
const BASE_MEMORY_MB = 16;
const PAGE = 64 * 1024;

/**
 * Loads QuickJS in a WebAssembly memory that cannot grow past `memoryMb` above its base: QuickJS's
 * own limit bounds single allocations only (its build cannot measure blocks), so the memory itself
 * is the bound, and an allocation past it fails inside QuickJS as "out of memory".
 */
export async function loadQuickJS(
  memoryMb: number,
): Promise<{ module: QuickJSWASMModule; memory: WebAssembly.Memory }> {
  const maximum = Math.ceil(((BASE_MEMORY_MB + memoryMb) * 1024 * 1024) / PAGE);
  const memory = new WebAssembly.Memory({ initial: (BASE_MEMORY_MB * 1024 * 1024) / PAGE, maximum });
  return {
    module: await newQuickJSWASMModuleFromVariant(newVariant(syncVariant(releaseSync), { wasmMemory: memory })),
    memory,
  };
}

/**
 * The QuickJS build: the package's types describe its CommonJS entry (where the variant is the
 * namespace's `default.default`), while Node loads its ES module (where it is `default`).
 */
function syncVariant(namespace: unknown): QuickJSSyncVariant {
  const first: unknown = Reflect.get(Object(namespace), 'default');
  const variant: unknown = isSyncVariant(first) ? first : Reflect.get(Object(first), 'default');
  if (!isSyncVariant(variant)) throw new Error('the QuickJS package holds no synchronous build');
  return variant;
}

const isSyncVariant = (value: unknown): value is QuickJSSyncVariant =>
  typeof value === 'object' && value !== null && Reflect.get(value, 'type') === 'sync';

/**
 * Runs the step's source in QuickJS as the body of `function (ctx, input)`: a runtime and a context
 * per call, disposed before it returns, so nothing is shared between calls. The result crosses to
 * the host only as JSON text, and only once its length is known to be within the bound.
 */
export function runCode(module: QuickJSWASMModule, job: CodeJob, memoryMb: number): CodeAnswer {
  const runtime = module.newRuntime();
  const deadline = Date.now() + job.maxMs;
  let interrupted = false;
  try {
    runtime.setMemoryLimit(memoryMb * 1024 * 1024);
    runtime.setMaxStackSize(CODE_STACK_BYTES);
    runtime.setInterruptHandler(() => (interrupted = Date.now() > deadline));
    const vm = runtime.newContext();
    try {
      return evaluate(vm, job, () => interrupted);
    } finally {
      vm.dispose();
    }
  } finally {
    runtime.dispose();
  }
}

/*
 * Runs inside the sandbox. JSON's functions are taken before the step's code could replace them;
 * the arguments come in as text and leave as text. A string result too long for the bound answers
 * its length, before a copy of it is made as JSON.
 */
const driver = (maxOutputBytes: number) => `(() => {
  const { parse, stringify } = JSON;
  const fn = new Function('ctx', 'input', globalThis.__source);
  const args = parse(globalThis.__args);
  delete globalThis.__source;
  delete globalThis.__args;
  const result = fn(args.ctx, args.input);
  if (result instanceof Promise) throw new TypeError('a code step returns a value, not a promise: it has no I/O to wait for');
  if (typeof result === 'string' && result.length + 2 > ${maxOutputBytes}) return result.length + 2;
  const out = stringify(result);
  return typeof out === 'string' ? out : 'null';
})()`;

function evaluate(vm: QuickJSContext, job: CodeJob, interrupted: () => boolean): CodeAnswer {
  setGlobal(vm, '__source', job.source);
  setGlobal(vm, '__args', JSON.stringify({ ctx: job.context ?? null, input: job.input ?? null }));
  const result = vm.evalCode(driver(job.maxOutputBytes), 'driver.js');
  if (result.error) {
    const thrown: unknown = vm.dump(result.error);
    result.error.dispose();
    return failure(thrown, interrupted());
  }
  const json = result.value;
  try {
    const length = vm.typeof(json) === 'number' ? vm.getNumber(json) : lengthOf(vm, json);
    if (length > job.maxOutputBytes)
      return limit('result', `the result is ${length} bytes as JSON, past the result limit of ${job.maxOutputBytes}`);
    return { ok: true, json: vm.getString(json) };
  } finally {
    json.dispose();
  }
}

function setGlobal(vm: QuickJSContext, name: string, text: string): void {
  const handle = vm.newString(text);
  vm.setProp(vm.global, name, handle);
  handle.dispose();
}

function lengthOf(vm: QuickJSContext, text: QuickJSHandle): number {
  const length = vm.getProp(text, 'length');
  try {
    return vm.getNumber(length);
  } finally {
    length.dispose();
  }
}

const limit = (which: CodeLimit, message: string): CodeAnswer => ({
  ok: false,
  error: { code: 'CODE_LIMIT', limit: which, message },
});

const MAX_MESSAGE_CHARS = 2000;

/** What the step's code threw: a limit QuickJS enforced, or the code's own error with its line. */
function failure(thrown: unknown, interrupted: boolean): CodeAnswer {
  const { name, message, stack } = describe(thrown);
  if (interrupted && message === 'interrupted') return limit('time', 'the code ran past its time limit');
  if (name === 'InternalError' && message === 'out of memory')
    return limit('memory', 'the code ran out of its memory limit');
  if (message === 'stack overflow') return limit('stack', 'the code nested calls past its stack limit');
  const line = lineOf(stack);
  return {
    ok: false,
    error: {
      code: 'CODE_ERROR',
      // Bounded: the message goes into the run's history and the dead letter.
      message: `${name ? `${name}: ` : ''}${message.slice(0, MAX_MESSAGE_CHARS)}${line === undefined ? '' : ` (line ${line})`}`,
      ...(line === undefined ? {} : { line }),
    },
  };
}

function describe(thrown: unknown): { name: string; message: string; stack: string } {
  if (typeof thrown !== 'object' || thrown === null) return { name: '', message: String(thrown), stack: '' };
  const field = (key: string) => {
    const value: unknown = Reflect.get(thrown, key);
    return typeof value === 'string' ? value : '';
  };
  return { name: field('name'), message: field('message') || JSON.stringify(thrown), stack: field('stack') };
}

/**
 * The line in the step's source: QuickJS compiles `new Function` bodies as `<input>`, two lines
 * below the function's head.
 */
export const FUNCTION_HEAD_LINES = 2;
function lineOf(stack: string): number | undefined {
  const match = /<input>:(\d+)/.exec(stack);
  if (!match?.[1]) return undefined;
  return Math.max(1, Number(match[1]) - FUNCTION_HEAD_LINES);
}
