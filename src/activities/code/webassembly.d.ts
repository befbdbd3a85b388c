/**
 * The part of the WebAssembly global the sandbox uses: this project's `lib` (ES2023, no DOM)
 * declares none of it, though Node has it.
 */
declare namespace WebAssembly {
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
}
