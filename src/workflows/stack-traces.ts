// Preloaded into each worker thread's sandbox (worker/bundle.ts), before the SDK freezes its globals.
Error.stackTraceLimit = 0;
