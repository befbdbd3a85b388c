/** The workflows the worker registers. */
export { bulkRedrive } from './bulk-redrive.js';
export { bulkRerun } from './bulk-rerun.js';
export { foreachBatch, interpreter } from './interpreter.js';
export { scheduledTrigger } from './scheduled-trigger.js';
export { admissionGate } from './admission.js';
export { eventKey } from './event-key.js';
