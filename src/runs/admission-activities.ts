import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { unavailable } from '../shared/errors.js';
import {
  acquireSignal,
  ADMISSION_GATE_WORKFLOW,
  releaseSignal,
  type GateRequest,
  type GateState,
} from '../workflows/admission-messages.js';

/** The activities through which a run asks an admission gate for a slot and gives it back. */
export function createAdmissionActivities(client: Client, taskQueue: string) {
  return {
    /** Queues the run at its gate, starting the gate if none runs (signal-with-start, so no request is lost to a gate ending). */
    async requestAdmission(req: { gateId: string; request: GateRequest }): Promise<void> {
      const { runId: _runId, startedAt: _startedAt, ...rule } = req.request;
      const initial: GateState = { rule, queue: [], holders: [] };
      try {
        await client.workflow.signalWithStart(ADMISSION_GATE_WORKFLOW, {
          workflowId: req.gateId,
          taskQueue,
          args: [initial],
          signal: acquireSignal,
          signalArgs: [req.request],
        });
      } catch (err) {
        throw unavailable('Temporal', err);
      }
    },

    /** Frees the run's slot or place; a gate that has ended holds neither. */
    async releaseAdmission(req: { gateId: string; runId: string }): Promise<void> {
      try {
        await client.workflow.getHandle(req.gateId).signal(releaseSignal, { runId: req.runId });
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw unavailable('Temporal', err);
      }
    },
  };
}

export type AdmissionActivities = ReturnType<typeof createAdmissionActivities>;
