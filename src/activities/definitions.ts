import type { WorkflowsRepo } from '../db/workflows-repo.js';
import type { Definition } from '../definitions/schema.js';
import { toFailure } from './connector-attempt.js';

/** Loads a stored definition for a `subworkflow` step (the workflow itself never reads the database). */
export function createDefinitionActivities(workflows: WorkflowsRepo) {
  return {
    async loadDefinition(req: {
      tenantId: string;
      workflowId: string;
      version?: number;
    }): Promise<{ id: string; version: number; definition: Definition }> {
      try {
        const wf = await workflows.get(req.tenantId, req.workflowId, req.version);
        return { id: wf.id, version: wf.version, definition: wf.definition };
      } catch (err) {
        throw toFailure(err, 1);
      }
    },
  };
}

export type DefinitionActivities = ReturnType<typeof createDefinitionActivities>;
