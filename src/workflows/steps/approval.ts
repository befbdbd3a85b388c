import {
  CancellationScope,
  condition,
  isCancellation,
  proxyLocalActivities,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { ApprovalActivities } from '../../activities/approvals.js';
import type { ApprovalStepDef } from '../../definitions/schema.js';
import { toMillis } from '../../definitions/duration.js';
import { AppError } from '../../shared/errors.js';
import type { StepContext, StepOutcome } from '../context.js';
import { StepFailure } from '../errors.js';
import type { ApprovalDecision, StepStatus } from '../run-model.js';
import { Scope } from '../scope.js';
import { waiting } from '../waiting.js';

const { openApproval } = proxyLocalActivities<ApprovalActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 10, maximumInterval: '10s', nonRetryableErrorTypes: ['APPROVALS_UNAVAILABLE'] },
});
/** The row's close is best effort: the API refuses a link the run no longer takes anyway. */
const { closeApproval } = proxyLocalActivities<ApprovalActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3, initialInterval: '500ms' },
});

/** The longest message an approval page shows, after its templates are rendered. */
const MAX_MESSAGE = 10_000;

/**
 * `approval`: mints a signed approve link and a signed reject link, valid until the step's
 * `timeout`, runs the `notify` steps (which see them as `approval.approveUrl`, `rejectUrl`,
 * `expiresAt`) and waits for the first decision taken on a link (`approvalUpdate`). Output
 * `{decision, comment, fields, at, by}`; no decision in time goes to `onTimeout` or fails
 * APPROVAL_TIMEOUT.
 */
export async function approval(
  step: ApprovalStepDef,
  { scope, suffix, runSequence }: StepContext,
): Promise<StepOutcome> {
  const { run } = scope;
  const { identity } = run;
  const id = uuid4();
  const expiresAt = new Date(Date.now() + toMillis(step.timeout)).toISOString();
  const rendered = await run.render(step.config.message, scope.context());
  const message = typeof rendered === 'string' ? rendered : JSON.stringify(rendered);
  if (message.length > MAX_MESSAGE)
    throw new AppError({
      code: 'INVALID_CONFIG',
      message: `the approval's message is ${message.length} characters, more than ${MAX_MESSAGE}`,
    });
  // Inside a foreach batch the decision must reach the batch's execution, which holds this wait.
  const execution = workflowInfo().workflowId;
  const links = await openApproval({
    id,
    tenantId: identity.tenantId,
    runId: identity.runId,
    ...(execution === identity.runId ? {} : { executionId: execution }),
    workflowId: identity.workflowId,
    workflowName: identity.definition.name,
    stepId: `${step.id}${suffix}`,
    message,
    fields: step.config.fields ?? null,
    expiresAt,
  });
  run.openApproval(id);
  scope.setWaiting(step.id, { type: 'approval', ...links, expiresAt });
  let decision: ApprovalDecision | undefined;
  try {
    if (step.notify) await notify(step, scope, { ...links, expiresAt }, runSequence);
    const remaining = Date.parse(expiresAt) - Date.now();
    await waiting(scope, step.id, () =>
      condition(() => run.approvalDecision(id) !== undefined, Math.max(remaining, 1)),
    );
    decision = run.approvalDecision(id);
  } finally {
    decision ??= run.approvalDecision(id);
    run.closeApproval(id);
    const decided = decision ? { decision: decision.decision, at: decision.at } : null;
    await CancellationScope.nonCancellable(() => closeApproval({ id, decided })).catch(() => undefined);
  }
  if (decision) {
    const { approvalId: _id, ...output } = decision;
    return { output };
  }
  if (step.onTimeout !== undefined) return { output: { timedOut: true }, goto: step.onTimeout };
  throw new AppError({ code: 'APPROVAL_TIMEOUT', message: `nobody approved or rejected within ${step.timeout}` });
}

/** Runs the notify steps as a nested block (shown under the step's `children`); its failure fails the step. */
async function notify(
  step: ApprovalStepDef,
  scope: Scope,
  links: { approveUrl: string; rejectUrl: string; expiresAt: string },
  runSequence: StepContext['runSequence'],
): Promise<void> {
  const block = new Scope(scope.run, scope, { shared: true, approval: links });
  let status: StepStatus = 'running';
  scope.attachChildren(step.id, () => [block.asChild('notify', status)]);
  try {
    const end = await runSequence(step.notify ?? [], block);
    status = end.status;
    if (end.status === 'failed')
      throw new StepFailure({ ...end.error, message: `notify failed: ${end.error.message}` }, 1);
  } catch (err) {
    status = isCancellation(err) ? 'cancelled' : 'failed';
    throw err;
  }
}
