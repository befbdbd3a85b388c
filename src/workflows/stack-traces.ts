// Preloaded into each worker thread's sandbox (worker/bundle.ts), before the SDK freezes its
// globals: workflow code captures no stack. The SDK records one at every promise a workflow
// creates, for the Web UI's stack trace view, and that was the largest cost of a run inside the
// sandbox (bench/results/profile.md). Where a run is, its steps say (the runState query, the API,
// the console); an error thrown in the sandbox keeps its message and loses its frames.
Error.stackTraceLimit = 0;
