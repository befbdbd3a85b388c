import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { mintToken } from '../../src/shared/tokens.js';
import { waitFor } from '../helpers/ports.js';
import { startSmtpServer } from '../helpers/smtp.js';
import { useStack } from '../helpers/use-stack.js';
import { after } from 'node:test';

const SECRET = 'approvals-test-secret-that-is-long-enough';

describe('approval steps decided by link (real Temporal, real PostgreSQL, real SMTP)', () => {
  const auth: Record<string, Record<string, string>> = {};
  const suite = useStack({ env: { AUTH_MODE: 'hs256', AUTH_HS256_SECRET: SECRET } });
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  before(async () => {
    for (const tenant of ['acme', 'globex'])
      auth[tenant] = { authorization: `Bearer ${await mintToken(SECRET, { tenant, scopes: ['admin'] })}` };
    smtp = await startSmtpServer({ user: 'mailer', password: 'smtp-pa55' });
  });
  after(() => smtp?.close());

  const as = (tenant: string, method: string, path: string, body?: unknown) =>
    suite.stack.call(method, path, body, auth[tenant]);
  /** Calls a link as a browser or a program would: no token, the body as given. */
  const link = async (url: string, init: { method?: string; body?: string; type?: string; accept?: string } = {}) => {
    const headers: Record<string, string> = { 'user-agent': 'approvals-test/1', accept: init.accept ?? 'text/html' };
    if (init.type) headers['content-type'] = init.type;
    const res = await suite.stack.app.request(new URL(url, 'http://x').pathname, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    return { status: res.status, text: await res.text(), headers: res.headers };
  };
  const postJson = (url: string, body: unknown) =>
    link(url, { method: 'POST', body: JSON.stringify(body), type: 'application/json', accept: 'application/json' });

  const approvalFlow = (extra: Record<string, unknown> = {}, timeout = '10m') => ({
    name: 'Refund <b>approval</b>',
    steps: [
      {
        id: 'ask',
        type: 'approval',
        timeout,
        config: {
          message: 'Refund {{ trigger.amount }} EUR to <script>alert(1)</script>?',
          fields: {
            type: 'object',
            properties: {
              amount: { type: 'number', maximum: 500, title: 'Amount' },
              reason: { type: 'string', enum: ['damaged', 'late'] },
              notifyCustomer: { type: 'boolean' },
            },
            required: ['amount'],
          },
        },
        notify: [{ id: 'note', type: 'transform', config: { expression: '{"url": approval.approveUrl}' } }],
        ...extra,
      },
      { id: 'done', type: 'succeed', config: { output: '{{ steps.ask.output }}' } },
      ...('onTimeout' in extra
        ? [{ id: 'late', type: 'fail', config: { error: 'LATE', message: 'nobody decided' } }]
        : []),
    ],
  });

  /** Starts a run of `definition` as `tenant` and waits until its approval step shows its links. */
  async function waitingApproval(tenant: string, definition: unknown, payload: unknown = { amount: 120 }) {
    const created = await as(tenant, 'POST', '/v1/workflows', definition);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const runId = (await as(tenant, 'POST', `/v1/workflows/${created.body.id}/runs`, payload)).body.runId;
    const step = await waitFor(`run ${runId} to wait for approval`, async () => {
      const run = (await as(tenant, 'GET', `/v1/runs/${runId}`)).body;
      const ask = run?.steps?.find((s: { id: string }) => s.id === 'ask');
      return run?.status === 'waiting' && ask?.waiting ? ask : undefined;
    });
    return { runId, waiting: step.waiting as { approveUrl: string; rejectUrl: string; expiresAt: string }, step };
  }
  const runOf = (tenant: string, runId: string) =>
    waitFor(`run ${runId} to end`, async () => {
      const run = (await as(tenant, 'GET', `/v1/runs/${runId}`)).body;
      return ['completed', 'failed'].includes(run?.status) && run.endedAt ? run : undefined;
    });

  it('approved: the page shows the escaped message and form; the decision with its fields is the output; a second use answers 410', async () => {
    const { runId, waiting, step } = await waitingApproval('acme', approvalFlow());
    assert.match(waiting.approveUrl, /^http:\/\/127\.0\.0\.1:3000\/approvals\/acme\/[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.notEqual(waiting.approveUrl, waiting.rejectUrl);
    assert.ok(Date.parse(waiting.expiresAt) > Date.now() + 9 * 60_000);
    // The notify steps saw the links.
    const note = step.children?.[0]?.steps?.find((s: { id: string }) => s.id === 'note');
    assert.deepEqual(note?.output, { url: waiting.approveUrl });

    const pageRes = await link(waiting.approveUrl);
    assert.equal(pageRes.status, 200);
    assert.match(pageRes.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(pageRes.text, /Refund 120 EUR to &#60;script&#62;alert\(1\)&#60;\/script&#62;\?/);
    assert.match(pageRes.text, /Refund &#60;b&#62;approval&#60;\/b&#62;/);
    assert.doesNotMatch(pageRes.text, /<script>|<b>approval/);
    assert.match(pageRes.text, /name="field:amount" required/);
    assert.match(pageRes.text, /<option value="damaged">/);
    // Looking at the page decides nothing.
    assert.equal((await as('acme', 'GET', `/v1/runs/${runId}`)).body.status, 'waiting');

    const decided = await postJson(waiting.approveUrl, {
      comment: 'ok by me',
      fields: { amount: 120, reason: 'damaged', notifyCustomer: true },
    });
    assert.equal(decided.status, 200, decided.text);
    assert.equal(JSON.parse(decided.text).decision, 'approved');
    const run = await runOf('acme', runId);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    assert.equal(run.result.decision, 'approved');
    assert.equal(run.result.comment, 'ok by me');
    assert.deepEqual(run.result.fields, { amount: 120, reason: 'damaged', notifyCustomer: true });
    assert.equal(run.result.by.userAgent, 'approvals-test/1');
    assert.ok(Date.parse(run.result.at) > 0);
    assert.equal(run.steps.find((s: { id: string }) => s.id === 'ask').waiting, undefined);

    for (const url of [waiting.approveUrl, waiting.rejectUrl]) {
      const again = await postJson(url, { fields: { amount: 1 } });
      assert.equal(again.status, 410, again.text);
      assert.equal(JSON.parse(again.text).code, 'APPROVAL_USED');
      assert.equal((await link(url)).status, 410);
    }
    assert.deepEqual((await as('acme', 'GET', `/v1/runs/${runId}`)).body.result, run.result);
  });

  it('rejected through the HTML form: the page answers a page, the output says rejected with the comment', async () => {
    const { runId, waiting } = await waitingApproval('acme', approvalFlow());
    const form = new URLSearchParams({ comment: 'too much', 'field:amount': '80', 'field:notifyCustomer': 'on' });
    const res = await link(waiting.rejectUrl, {
      method: 'POST',
      body: form.toString(),
      type: 'application/x-www-form-urlencoded',
    });
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /<h1>Rejected<\/h1>/);
    const run = await runOf('acme', runId);
    assert.equal(run.result.decision, 'rejected');
    assert.equal(run.result.comment, 'too much');
    assert.deepEqual(run.result.fields, { amount: 80, notifyCustomer: true });
  });

  it('inside a foreach of more than 200 items (batch child workflows), the link decides the item that waits', async () => {
    const definition = {
      name: 'Approve the last line',
      steps: [
        {
          id: 'lines',
          type: 'foreach',
          items: '[0..200]',
          concurrency: 50,
          steps: [
            { id: 'which', type: 'choice', cases: [{ when: 'item = 200', next: 'ask' }], default: 'plain' },
            { id: 'plain', type: 'succeed', config: { output: '{{ item }}' } },
            { id: 'ask', type: 'approval', timeout: '10m', config: { message: 'Line {{ item }}?' } },
          ],
        },
      ],
    };
    const created = await as('acme', 'POST', '/v1/workflows', definition);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const runId = (await as('acme', 'POST', `/v1/workflows/${created.body.id}/runs`, {})).body.runId;
    const pending = await waitFor(`the approval of run ${runId}`, async () => {
      const items = (await as('acme', 'GET', '/v1/approvals')).body.items as { runId: string; approveUrl: string }[];
      return items.find((i) => i.runId === runId);
    });
    const decided = await postJson(pending.approveUrl, { comment: 'last line ok' });
    assert.equal(decided.status, 200, decided.text);
    const run = await runOf('acme', runId);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    const lines = run.steps.find((s: { id: string }) => s.id === 'lines').output as unknown[];
    assert.equal(lines.length, 201);
    assert.equal(lines[199], 199);
    assert.equal((lines[200] as { decision: string; comment: string }).decision, 'approved');
    assert.equal((lines[200] as { comment: string }).comment, 'last line ok');
    assert.equal((await postJson(pending.approveUrl, {})).status, 410);
  });

  it('timed out: onTimeout takes the run on, without it the step fails APPROVAL_TIMEOUT; the links then answer 404', async () => {
    const routed = await waitingApproval('acme', approvalFlow({ onTimeout: 'late' }, '2s'));
    const failed = await waitingApproval('acme', approvalFlow({}, '2s'));
    const late = await runOf('acme', routed.runId);
    assert.equal(late.status, 'failed');
    assert.equal(late.error.code, 'LATE');
    assert.deepEqual(late.steps.find((s: { id: string }) => s.id === 'ask').output, { timedOut: true });
    const timedOut = await waitFor('the step to fail', async () => {
      const run = (await as('acme', 'GET', `/v1/runs/${failed.runId}`)).body;
      const ask = run.steps.find((s: { id: string }) => s.id === 'ask');
      return ask?.status === 'failed' ? ask : undefined;
    });
    assert.equal(timedOut.error.code, 'APPROVAL_TIMEOUT');
    for (const url of [routed.waiting.approveUrl, failed.waiting.rejectUrl]) {
      const res = await postJson(url, { fields: { amount: 1 } });
      assert.equal(res.status, 404, res.text);
      assert.equal(JSON.parse(res.text).code, 'APPROVAL_NOT_FOUND');
    }
  });

  it('tampered, forged, foreign and malformed links answer 404 and change nothing; bad fields and huge bodies are refused', async () => {
    const { runId, waiting } = await waitingApproval('acme', approvalFlow());
    const token = waiting.approveUrl.split('/').at(-1) ?? '';
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString());
    const flipped = `${signature?.startsWith('A') ? 'B' : 'A'}${signature?.slice(1)}`;
    const otherClaims = Buffer.from(JSON.stringify({ ...claims, act: 'reject' })).toString('base64url');
    const forged = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256', kid: 'test' })
      .sign(new TextEncoder().encode(SECRET));
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
    for (const path of [
      `/approvals/acme/${header}.${payload}.${flipped}`,
      `/approvals/acme/${header}.${otherClaims}.${signature}`,
      `/approvals/globex/${token}`,
      `/approvals/acme/${forged}`,
      `/approvals/acme/${unsigned}`,
      `/approvals/acme/not-a-token`,
      `/approvals/acme/${'a'.repeat(5000)}`,
      `/approvals/${'t'.repeat(300)}/${token}`,
    ]) {
      const res = await postJson(path, { fields: { amount: 1 } });
      assert.equal(res.status, 404, `${path.slice(0, 80)}: ${res.text}`);
      assert.equal((await link(path)).status, 404);
    }
    // Another tenant sees no pending approval of acme; acme sees its own, with working links.
    assert.deepEqual((await as('globex', 'GET', '/v1/approvals')).body.items, []);
    const listed = (await as('acme', 'GET', '/v1/approvals')).body.items.find(
      (a: { runId: string }) => a.runId === runId,
    );
    assert.equal(listed.approveUrl, waiting.approveUrl);
    assert.equal((await suite.stack.call('GET', '/v1/approvals')).status, 401);

    for (const body of [
      { fields: { amount: 900 } },
      { fields: { amount: 'lots' } },
      { fields: {} },
      { fields: { amount: 1, extra: true } },
      { fields: { amount: 1 }, comment: 'x'.repeat(3000) },
      { fields: { amount: 1 }, other: 1 },
      [1, 2],
    ]) {
      const res = await postJson(waiting.approveUrl, body);
      assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${res.text}`);
      assert.equal(JSON.parse(res.text).code, 'INVALID_DECISION');
    }
    const huge = await link(waiting.approveUrl, {
      method: 'POST',
      body: JSON.stringify({ comment: 'x'.repeat(100_000) }),
      type: 'application/json',
      accept: 'application/json',
    });
    assert.equal(huge.status, 413);
    assert.equal((await as('acme', 'GET', `/v1/runs/${runId}`)).body.status, 'waiting');

    // Approve and reject at once: the run takes one decision, the other caller is told it was used.
    const both = await Promise.all([
      postJson(waiting.approveUrl, { fields: { amount: 5 } }),
      postJson(waiting.rejectUrl, { fields: { amount: 6 } }),
      postJson(waiting.approveUrl, { fields: { amount: 7 } }),
    ]);
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 410, 410], both.map((r) => r.text).join('\n'));
    const winner = JSON.parse(both.find((r) => r.status === 200)?.text ?? '{}');
    const run = await runOf('acme', runId);
    assert.equal(run.result.decision, winner.decision);
  });

  it('the approval goes out by email through a real SMTP server; the link read from the mail decides the run', async () => {
    await as('acme', 'PUT', '/v1/secrets/smtp_pw', { value: 'smtp-pa55' });
    const conn = await as('acme', 'PUT', '/v1/connections/mailer', {
      type: 'smtp',
      config: { host: '127.0.0.1', port: smtp.port, user: 'mailer', password: "$secret('smtp_pw')" },
    });
    assert.ok([200, 201].includes(conn.status), JSON.stringify(conn.body));
    const definition = approvalFlow({
      notify: [
        {
          id: 'mail',
          type: 'email',
          connection: 'mailer',
          config: {
            from: 'zaps@example.com',
            to: 'boss@example.com',
            subject: 'Approve the refund?',
            text: 'Approve: {{ approval.approveUrl }}\nReject: {{ approval.rejectUrl }}\nUntil {{ approval.expiresAt }}',
          },
        },
      ],
    });
    const { runId } = await waitingApproval('acme', definition);
    const mail = await waitFor('the approval mail', async () =>
      smtp.received.find((m) => m.mail.subject === 'Approve the refund?'),
    );
    assert.deepEqual(mail.envelope.to, ['boss@example.com']);
    const approve = /Approve: (\S+)/.exec(mail.mail.text ?? '')?.[1];
    assert.ok(approve, mail.mail.text);
    const res = await postJson(approve, { fields: { amount: 42 } });
    assert.equal(res.status, 200, res.text);
    const run = await runOf('acme', runId);
    assert.equal(run.result.decision, 'approved');
    assert.deepEqual(run.result.fields, { amount: 42 });
  });

  it('refuses bad approval definitions: no timeout, a broken form, a route out of the block', async () => {
    const bad = [
      { id: 'a', type: 'approval', config: { message: 'x' } },
      {
        id: 'a',
        type: 'approval',
        timeout: '1m',
        config: { message: 'x', fields: { type: 'object', properties: {} } },
      },
      {
        id: 'a',
        type: 'approval',
        timeout: '1m',
        config: { message: 'x', fields: { type: 'object', properties: { a: { type: 'array' } } } },
      },
      {
        id: 'a',
        type: 'approval',
        timeout: '1m',
        config: { message: 'x', fields: { type: 'object', properties: { a: { type: 'string' } }, required: ['b'] } },
      },
      { id: 'a', type: 'approval', timeout: '1m', config: { message: 'x' }, onTimeout: 'nowhere' },
    ];
    for (const step of bad) {
      const res = await as('acme', 'POST', '/v1/workflows', { name: 'bad', steps: [step] });
      assert.equal(res.status, 400, JSON.stringify(step));
      assert.equal(res.body.code, 'INVALID_DEFINITION');
    }
  });
});
