// Approvals waiting for a decision: the workflow, the message, when the links expire, and
// approve / reject buttons that use the approval's own links (as the person mailed them would).
import { api, enc } from './api.js';
import { actionButton, clear, h, heading, time, toast } from './dom.js';

export async function approvalsView(main, ctx) {
  const body = h('div');
  const render = async () => {
    const { items } = await api('GET', '/v1/approvals?limit=200');
    if (!ctx.live) return;
    clear(
      body,
      items.length
        ? h(
            'ul',
            { class: 'approvals' },
            items.map((a) => approval(a, render)),
          )
        : h('p', { class: 'muted' }, 'No approval is waiting.'),
    );
  };
  await render();
  ctx.every(5000, render);
  clear(main, heading('Approvals'), body);
}

function approval(a, render) {
  const comment = h('input', { type: 'text', placeholder: 'Comment (optional)', maxlength: '2000' });
  const decide = (label, url) =>
    actionButton(label, async () => {
      // The link's own path: the console and the links are served by the same API.
      const body = comment.value ? { comment: comment.value } : {};
      await api('POST', new URL(url, location.href).pathname, body);
      toast(`${label}d: ${a.workflowName}`);
      await render();
    });
  return h(
    'li',
    { class: 'panel approval', 'data-approval': a.id },
    h(
      'div',
      { class: 'heading' },
      h(
        'h2',
        {},
        h('a', { href: `#/workflows/${enc(a.workflowId)}` }, a.workflowName),
        ' · step ',
        h('code', {}, a.stepId),
        ' · run ',
        h('a', { href: `#/runs/${enc(a.runId)}` }, a.runId.slice(0, 8)),
      ),
    ),
    h('p', { class: 'approval-message' }, a.message),
    a.fields ? h('p', { class: 'muted' }, 'This approval has a form: open its link to fill it in.') : null,
    h('p', { class: 'muted' }, 'Expires ', time(a.expiresAt)),
    h(
      'div',
      { class: 'actions' },
      comment,
      decide('Approve', a.approveUrl),
      decide('Reject', a.rejectUrl),
      h('a', { href: a.approveUrl, target: '_blank', rel: 'noopener noreferrer' }, 'Open the approve page'),
    ),
  );
}
