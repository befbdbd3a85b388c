import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Context } from 'hono';
import type { ApprovalRow } from '../db/approvals-repo.js';
import { checkFields, type ApprovalField, type ApprovalFields } from '../definitions/approval-fields.js';
import { approvalLinks, type ApprovalLink } from '../shared/approval-links.js';
import { publicUrl } from '../shared/config.js';
import { AppError, unavailable } from '../shared/errors.js';
import { approvalUpdate, type ApprovalDecision } from '../workflows/run-model.js';
import type { ApiDeps, ApiEnv } from './env.js';
import { clientIp } from './middleware/rate-limit.js';
import { requires } from './middleware/scopes.js';
import { problemResponse, toProblem } from './problem.js';
import { errorResponses, json } from './schemas.js';

/** A decision's body: a comment and the form's fields, and nothing bigger. */
const MAX_DECISION_BYTES = 64 * 1024;
const MAX_COMMENT = 2000;
const MAX_USER_AGENT = 500;

/** The page loads only the console's stylesheet, runs no script and posts only to itself. */
const PAGE_CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const DecisionBodySchema = z.strictObject({
  comment: z.string().max(MAX_COMMENT).optional(),
  fields: z.record(z.string(), z.unknown()).optional(),
});

/**
 * `/approvals/{tenant}/{token}`: the approval links, public (the link is the credential). `GET`
 * shows a page (workflow, message, form, confirm button) and decides nothing, so a mail scanner
 * that follows links changes no run; `POST` (form or JSON `{comment?, fields?}`) decides. A link
 * used once answers 410 afterwards; a tampered, foreign or expired one 404, changing nothing.
 */
export function approvalLinkRoutes(deps: ApiDeps) {
  const links = approvalLinks(deps.ring, publicUrl(deps.config));
  const app = new OpenAPIHono<ApiEnv>();

  app.get('/:tenant/:token', async (c) => {
    const found = await pendingApproval(deps, links, c.req.param('tenant'), c.req.param('token'));
    if (found instanceof AppError) return answerError(c, found);
    const { link, row } = found;
    if (wantsJson(c))
      return c.json({
        workflowName: row.workflowName,
        message: row.message,
        fields: row.fields,
        action: link.action,
        expiresAt: row.expiresAt.toISOString(),
      });
    return page(c, 200, `${verb(link)} · ${row.workflowName}`, decisionForm(link, row));
  });

  app.post('/:tenant/:token', async (c) => {
    const found = await pendingApproval(deps, links, c.req.param('tenant'), c.req.param('token'));
    if (found instanceof AppError) return answerError(c, found);
    const { link, row } = found;
    const body = await readDecision(c, row.fields);
    if (body instanceof AppError) return answerError(c, body);
    const decision: ApprovalDecision = {
      approvalId: row.id,
      decision: link.action === 'approve' ? 'approved' : 'rejected',
      comment: body.comment,
      fields: body.fields,
      at: new Date().toISOString(),
      by: {
        ip: clientIp(c, deps.config.TRUST_PROXY ? deps.config.TRUST_PROXY_HOPS : 0),
        userAgent: c.req.header('user-agent')?.slice(0, MAX_USER_AGENT) ?? null,
      },
    };
    const refused = await sendDecision(deps, row, decision);
    if (refused) return answerError(c, refused);
    await deps.approvals.decided(row.id, decision.decision, decision.at).catch((err: unknown) => {
      // The run took the decision, which is what counts; the row follows at the step's end.
      c.var.logger.warn({ err, approvalId: row.id }, 'approval decision not recorded');
    });
    if (wantsJson(c)) return c.json({ decision: decision.decision, at: decision.at });
    const word = decision.decision === 'approved' ? 'Approved' : 'Rejected';
    return page(c, 200, word, `<h1>${word}</h1><p>${esc(row.workflowName)} goes on. Thank you.</p>`);
  });
  return app;
}

/** `GET /v1/approvals`: the tenant's approvals waiting for a decision, with their links (the console lists them). */
export function approvalsRoutes(deps: ApiDeps) {
  const links = approvalLinks(deps.ring, publicUrl(deps.config));
  const app = new OpenAPIHono<ApiEnv>();
  const Item = z
    .object({
      id: z.string(),
      runId: z.string(),
      workflowId: z.string(),
      workflowName: z.string(),
      stepId: z.string(),
      message: z.string(),
      fields: z.unknown(),
      createdAt: z.string(),
      expiresAt: z.string(),
      approveUrl: z.string(),
      rejectUrl: z.string(),
    })
    .openapi('PendingApproval');
  app.openapi(
    createRoute({
      method: 'get',
      path: '/approvals',
      tags: ['runs'],
      summary: 'Approvals waiting for a decision, soonest to expire first, with their approve and reject links',
      ...requires('runs:read'),
      request: { query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(100) }) },
      responses: { 200: json(z.object({ items: z.array(Item) }), 'Pending approvals'), ...errorResponses },
    }),
    async (c) => {
      const rows = await deps.approvals.pending(c.var.tenantId, c.req.valid('query').limit);
      const items = await Promise.all(
        rows.map(async (r) => ({
          id: r.id,
          runId: r.runId,
          workflowId: r.workflowId,
          workflowName: r.workflowName,
          stepId: r.stepId,
          message: r.message,
          fields: r.fields,
          createdAt: r.createdAt.toISOString(),
          expiresAt: r.expiresAt.toISOString(),
          ...(await links.mint({ tenantId: r.tenantId, approvalId: r.id, expiresAt: r.expiresAt.toISOString() })),
        })),
      );
      return c.json({ items }, 200);
    },
  );
  return app;
}

/** The link and its approval while it waits; else why not: 404 (not ours, expired, over) or 410 (used). */
async function pendingApproval(
  deps: ApiDeps,
  links: ReturnType<typeof approvalLinks>,
  tenant: string,
  token: string,
): Promise<{ link: ApprovalLink; row: ApprovalRow } | AppError> {
  const link = await links.verify(tenant, token);
  const row = link && (await deps.approvals.get(link.tenantId, link.approvalId));
  if (!link || !row) return notFound();
  if (row.decidedAt) return used();
  if (row.closedAt || row.expiresAt.getTime() <= Date.now()) return notFound();
  return { link, row };
}

const notFound = () =>
  new AppError({
    code: 'APPROVAL_NOT_FOUND',
    message: 'this approval link is not valid: unknown, expired or no longer waiting',
    httpStatus: 404,
  });
const used = () =>
  new AppError({ code: 'APPROVAL_USED', message: 'this approval was already decided', httpStatus: 410 });

/** Sends the decision to the run, which takes only the first; undefined when it was taken. */
async function sendDecision(
  deps: ApiDeps,
  row: ApprovalRow,
  decision: ApprovalDecision,
): Promise<AppError | undefined> {
  try {
    await deps.temporal.workflow
      .getHandle(row.executionId ?? row.runId)
      .executeUpdate(approvalUpdate, { args: [decision] });
    return undefined;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)
      if (err.cause.type === 'APPROVAL_DECIDED') return used();
    // Closed, or the run is over: the row says whether it was decided before.
    const now = await deps.approvals.get(row.tenantId, row.id);
    if (now?.decidedAt) return used();
    if (now?.closedAt || err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateFailedError)
      return notFound();
    throw unavailable('Temporal', err);
  }
}

/** The body as JSON `{comment?, fields?}` or as the page's form, its fields checked against the approval's form. */
async function readDecision(
  c: Context<ApiEnv>,
  form: ApprovalFields | null,
): Promise<{ comment: string | null; fields: Record<string, unknown> } | AppError> {
  const type = c.req.header('content-type') ?? '';
  let comment: unknown;
  let values: unknown;
  const text = await c.req.text();
  if (text.length > MAX_DECISION_BYTES)
    return new AppError({
      code: 'BODY_TOO_LARGE',
      message: `a decision is at most ${MAX_DECISION_BYTES} bytes`,
      httpStatus: 413,
    });
  const fromForm = /^application\/x-www-form-urlencoded\b/i.test(type);
  if (fromForm) {
    const body = new URLSearchParams(text);
    comment = body.get('comment') ?? undefined;
    values = Object.fromEntries(
      [...body.entries()]
        .filter(([name]) => name.startsWith('field:'))
        .map(([name, value]) => [name.slice('field:'.length), value]),
    );
    if (typeof comment === 'string' && comment.length > MAX_COMMENT)
      return invalid([`comment is at most ${MAX_COMMENT} characters`]);
  } else {
    let raw: unknown = {};
    try {
      raw = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      return invalid(['the body is neither JSON nor a form']);
    }
    const parsed = DecisionBodySchema.safeParse(raw);
    if (!parsed.success) return invalid(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`));
    comment = parsed.data.comment;
    values = parsed.data.fields;
  }
  const checked = checkFields(form ?? undefined, values, fromForm);
  if (!checked.ok) return invalid(checked.problems);
  return { comment: typeof comment === 'string' && comment !== '' ? comment : null, fields: checked.fields };
}

const invalid = (problems: string[]) =>
  new AppError({
    code: 'INVALID_DECISION',
    message: `the decision is not valid: ${problems.slice(0, 20).join('; ')}`,
    httpStatus: 400,
    details: { problems: problems.slice(0, 20) },
  });

const wantsJson = (c: Context) => {
  const accept = c.req.header('accept') ?? '';
  const type = c.req.header('content-type') ?? '';
  return (/json/i.test(accept) && !/text\/html/i.test(accept)) || (c.req.method === 'POST' && /json/i.test(type));
};

/** A problem as problem+json for programs, as a page for people. */
function answerError(c: Context<ApiEnv>, err: AppError): Response {
  if (wantsJson(c)) return problemResponse(c, err);
  const problem = toProblem(err);
  return page(c, problem.status, problem.title, `<h1>${esc(problem.title)}</h1><p>${esc(problem.detail)}</p>`);
}

function page(c: Context, status: number, title: string, body: string): Response {
  c.header('content-security-policy', PAGE_CSP);
  c.header('cache-control', 'no-store');
  c.header('referrer-policy', 'no-referrer');
  c.header('x-content-type-options', 'nosniff');
  return c.html(
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
<title>${esc(title)} · Mini-Zaps</title>
<link rel="stylesheet" href="/ui/assets/console.css">
</head>
<body>
<main id="main" class="login panel approval">${body}</main>
</body>
</html>`,
    status as 200,
  );
}

const verb = (link: ApprovalLink) => (link.action === 'approve' ? 'Approve' : 'Reject');

/** The page's form: the message, the fields, a comment, and one button that confirms the link's action. */
function decisionForm(link: ApprovalLink, row: ApprovalRow): string {
  const inputs = Object.entries(row.fields?.properties ?? {})
    .map(([name, field]) => `<p>${fieldInput(name, field, row.fields?.required?.includes(name) ?? false)}</p>`)
    .join('\n');
  return `<h1>${esc(verb(link))}: ${esc(row.workflowName)}</h1>
<p class="approval-message">${esc(row.message).replace(/\n/g, '<br>')}</p>
<form method="post">
${inputs}
<p><label>Comment <textarea name="comment" maxlength="${MAX_COMMENT}" rows="3"></textarea></label></p>
<p class="muted">Valid until ${esc(row.expiresAt.toISOString())}. This link works once.</p>
<button type="submit" class="button ${link.action === 'approve' ? 'primary' : 'danger'}">${esc(verb(link))}</button>
</form>`;
}

function fieldInput(name: string, field: ApprovalField, required: boolean): string {
  const label = esc(field.title ?? name);
  const attr = `name="field:${esc(name)}"${required ? ' required' : ''}`;
  const help = field.description ? `<small class="muted">${esc(field.description)}</small>` : '';
  if (field.type === 'boolean') return `<label><input type="checkbox" ${attr}> ${label}</label>${help}`;
  if (field.type === 'string' && field.enum) {
    const options = field.enum.map((v) => `<option value="${esc(v)}">${esc(v)}</option>`).join('');
    return `<label>${label} <select ${attr}><option value=""></option>${options}</select></label>${help}`;
  }
  if (field.type === 'string')
    return `<label>${label} <input type="text" ${attr}${field.maxLength ? ` maxlength="${field.maxLength}"` : ''}></label>${help}`;
  const bounds = [
    field.minimum !== undefined ? ` min="${field.minimum}"` : '',
    field.maximum !== undefined ? ` max="${field.maximum}"` : '',
  ].join('');
  const step = field.type === 'integer' ? '1' : 'any';
  return `<label>${label} <input type="number" step="${step}"${bounds} ${attr}></label>${help}`;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
