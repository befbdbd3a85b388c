/** The workflows the worker registers. */
export { interpreter } from './interpreter.js';
