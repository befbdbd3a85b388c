/** The workflows the worker registers. */
export { foreachBatch, interpreter } from './interpreter.js';
