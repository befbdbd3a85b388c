import { after, before } from 'node:test';
import { startReceiver, type Receiver } from './receiver.js';
import { startStack, type Stack } from './stack.js';

type StackOptions = NonNullable<Parameters<typeof startStack>[0]>;

/**
 * The whole engine and a scriptable HTTP receiver for the enclosing `describe`: started in a
 * `before` hook, stopped in an `after` hook. Hooks run in the order they are registered, so set-up
 * that needs the stack goes in a `before` after this call, and clean-up that must run while the
 * stack is still up (killing worker processes) in an `after` registered before it. Options given
 * as a function are read in the hook (for values made there, such as a tracer).
 *
 * @example
 * const suite = useStack({ env: { AUTH_MODE: 'hs256' } });
 * it('...', async () => { await suite.stack.call('GET', '/v1/workflows'); });
 */
export function useStack(options: StackOptions | (() => StackOptions) = {}): {
  readonly stack: Stack;
  readonly receiver: Receiver;
} {
  let started: { stack?: Stack; receiver?: Receiver } = {};
  before(async () => {
    // The receiver first: a port taken while the Temporal dev server picks its own makes it exit.
    const receiver = await startReceiver();
    started = { receiver };
    started.stack = await startStack(typeof options === 'function' ? options() : options);
  });
  after(async () => {
    await started.stack?.stop();
    await started.receiver?.close();
  });
  return {
    get stack() {
      if (!started.stack) throw new Error('the stack has not started');
      return started.stack;
    },
    get receiver() {
      if (!started.receiver) throw new Error('the receiver has not started');
      return started.receiver;
    },
  };
}
