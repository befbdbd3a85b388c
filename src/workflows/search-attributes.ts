import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import spec from '../../temporal-config/search-attributes.json' with { type: 'json' };

/**
 * The custom search attributes every run carries, so operators can filter in the Web UI and with
 * `temporal workflow list --query "MiniZapsWorkflowId = '...'"`. Registered on the dev server
 * from temporal-config/search-attributes.json.
 */
export const WORKFLOW_ID = defineSearchAttributeKey('MiniZapsWorkflowId', SearchAttributeType.KEYWORD);
export const VERSION = defineSearchAttributeKey('MiniZapsVersion', SearchAttributeType.INT);
export const TENANT = defineSearchAttributeKey('MiniZapsTenant', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [WORKFLOW_ID, VERSION, TENANT];

/** Set by Temporal on every workflow a schedule starts: the firing time (before jitter), also for backfills. */
export const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** `--search-attribute Name=Type` arguments for `temporal server start-dev`. */
export const devServerSearchAttributeArgs = (): string[] =>
  Object.entries(spec).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]);

export function runSearchAttributes(run: {
  tenantId: string;
  workflowId: string;
  version: number;
}): SearchAttributePair[] {
  return [
    { key: WORKFLOW_ID, value: run.workflowId },
    { key: VERSION, value: run.version },
    { key: TENANT, value: run.tenantId },
  ];
}
