import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { Browser, Page } from 'playwright-core';
import { createApp } from '../../src/api/app.js';
import { consoleAssets } from '../../src/api/ui/routes.js';
import { mintToken } from '../../src/shared/tokens.js';
import { chromiumMissing, launchChromium, serveHttp } from '../helpers/browser.js';
import { waitFor } from '../helpers/ports.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { createWorkflow, trigger, waitForStatus } from '../helpers/runs.js';
import { startStack, type Stack } from '../helpers/stack.js';

// The README's screenshots are rewritten only on request (UPDATE_SCREENSHOTS=1); otherwise they go to a temporary folder.
const SHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? new URL('../../docs/screenshots/', import.meta.url)
    : pathToFileURL(`${join(tmpdir(), 'mini-zaps-screenshots')}/`);
const skip = chromiumMissing();
const SECRET = 'console-test-secret-that-is-long-enough';

describe('web console and docs in a real headless Chromium (real Temporal, real PostgreSQL, real HTTP)', () => {
  let stack: Stack;
  let receiver: Receiver;
  let api: Awaited<ReturnType<typeof serveHttp>>;
  let browser: Browser | undefined;
  let flakyUp = false;

  before(async () => {
    [stack, receiver] = await Promise.all([startStack({ temporalUi: true }), startReceiver()]);
    receiver.on('/contacts', () => ({ status: 200, body: { plan: 'pro' } }));
    receiver.on('/flaky', () =>
      flakyUp ? { status: 200, body: { ok: true } } : { status: 422, body: { error: 'rejected' } },
    );
    api = await serveHttp(stack.app.fetch);
    if (!skip) browser = await launchChromium();
    await mkdir(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await stack?.stop();
    await receiver?.close();
  });

  async function open(path: string, base = api.url, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    if (!browser) throw new Error('no browser');
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme });
    // The machine may be busy with other suites: waits are bounded generously, failures still fail.
    page.setDefaultTimeout(60_000);
    await page.goto(`${base}${path}`);
    return page;
  }
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage: true });

  const welcome = (): { name: string; steps: Record<string, unknown>[] } => ({
    name: 'Welcome new user',
    steps: [
      {
        id: 'crm',
        type: 'http',
        config: { method: 'POST', url: `${receiver.url}/contacts`, body: { email: '{{ trigger.email }}' } },
      },
      {
        id: 'route',
        type: 'choice',
        cases: [{ when: "steps.crm.output.body.plan = 'pro'", next: 'vip' }],
        default: 'done',
      },
      {
        id: 'vip',
        type: 'parallel',
        branches: [
          [{ id: 'greeting', type: 'transform', config: { expression: "'Welcome ' & trigger.email" } }],
          [{ id: 'score', type: 'transform', config: { expression: '42' } }],
        ],
      },
      { id: 'done', type: 'succeed' },
    ],
  });

  it('the console stays within its 300 KB gzipped budget', () => {
    const assets = consoleAssets();
    const total = assets.names.reduce((sum, name) => sum + assets.gzippedSize(name), 0);
    assert.ok(total > 0 && total < 300 * 1024, `${total} bytes gzipped`);
  });

  it('/docs and /ui load without a single request to a host other than the API', { skip }, async () => {
    const page = await open('/docs');
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.reload();
    await page.locator('.swagger-ui .info .title').waitFor();
    assert.match(await page.locator('.swagger-ui .info .title').innerText(), /Mini-Zaps API/);
    await page.goto(`${api.url}/ui`);
    await page.getByRole('heading', { name: 'Workflows' }).waitFor();
    const network = requested.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:'));
    assert.ok(
      network.some((u) => u.endsWith('/docs/assets/swagger-ui-dist/swagger-ui-bundle.js')),
      network.join('\n'),
    );
    assert.ok(
      network.some((u) => u.endsWith('/ui/assets/app.js')),
      network.join('\n'),
    );
    assert.deepEqual(
      network.filter((u) => new URL(u).origin !== api.url),
      [],
    );
    await page.close();
  });

  it(
    'the console asks for a token when the API requires one, refuses a bad one and works with a good one',
    { skip },
    async () => {
      const secured = createApp({
        ...stack.deps,
        config: { ...stack.config, AUTH_MODE: 'hs256', AUTH_HS256_SECRET: SECRET },
      });
      const server = await serveHttp(secured.fetch);
      try {
        const page = await open('/ui', server.url);
        const field = page.getByLabel('API token');
        await field.fill('not-a-token');
        await page.getByRole('button', { name: 'Use token' }).click();
        await page.getByText('The API did not accept this token.').waitFor();
        await field.fill(
          await mintToken(SECRET, { tenant: 'default', scopes: ['workflows:read', 'runs:read'], ttl: '1h' }),
        );
        await page.getByRole('button', { name: 'Use token' }).click();
        await page.getByRole('heading', { name: 'Workflows' }).waitFor();
        assert.ok(await page.evaluate('sessionStorage.getItem("mz-token")'));
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByLabel('API token').waitFor();
        await page.close();
      } finally {
        await server.close();
      }
    },
  );

  it(
    'is driven from the keyboard: g r opens runs, g d dead letters, t switches the theme and keeps it',
    { skip },
    async () => {
      const page = await open('/ui');
      await page.getByRole('heading', { name: 'Workflows' }).waitFor();
      await page.keyboard.press('g');
      await page.keyboard.press('r');
      await page.getByRole('heading', { name: 'Runs' }).waitFor();
      await page.keyboard.press('g');
      await page.keyboard.press('d');
      await page.getByRole('heading', { name: 'Dead letters' }).waitFor();
      await page.keyboard.press('t');
      assert.equal(await page.evaluate('document.documentElement.dataset.theme'), 'dark');
      await page.reload();
      await page.getByRole('heading', { name: 'Dead letters' }).waitFor();
      assert.equal(await page.evaluate('document.documentElement.dataset.theme'), 'dark');
      await page.close();
    },
  );

  it(
    'creates a workflow in the editor: a validation error shows with its pointer, is fixed, and the saved workflow is drawn',
    { skip },
    async () => {
      const page = await open('/ui#/workflows/new');
      const editor = page.getByLabel('Definition (JSON)');
      const broken = welcome();
      broken.steps[1] = { ...broken.steps[1], default: 'nowhere' };
      await editor.fill(JSON.stringify(broken, null, 2));
      await page.locator('#validation li', { hasText: '/steps/1/default' }).waitFor();
      await shot(page, 'console-editor-error');
      await editor.fill(JSON.stringify(welcome(), null, 2));
      await page.locator('#validation.ok').waitFor();
      await page.getByRole('button', { name: 'Create workflow' }).click();
      await page.locator('.graph [data-step="greeting"]').waitFor();
      const id = decodeURIComponent(new URL(page.url()).hash.replace('#/workflows/', ''));
      const saved = await stack.call('GET', `/v1/workflows/${id}`);
      assert.equal(saved.status, 200);
      assert.equal(saved.body.name, 'Welcome new user');
      assert.deepEqual(
        await page.locator('.graph .node').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-step'))),
        ['crm', 'route', 'vip', 'greeting', 'score', 'done'],
      );
      await shot(page, 'console-workflow');
      await page.close();
    },
  );

  it(
    "shows a workflow's failure workflow and SLA, and a failure run's link to the run that failed",
    { skip },
    async () => {
      receiver.on('/told', () => ({ status: 200, body: { ok: true } }));
      const notify = await createWorkflow(stack, {
        name: 'notify',
        steps: [{ id: 'tell', type: 'http', config: { method: 'POST', url: `${receiver.url}/told` } }],
      });
      const id = await createWorkflow(stack, {
        name: 'watched',
        onFailure: { workflowId: notify, version: 1 },
        sla: { maxDuration: '5m', onBreach: 'alert_and_cancel' },
        steps: [{ id: 'stop', type: 'fail' }],
      });
      const page = await open(`/ui#/workflows/${id}`);
      assert.equal((await page.locator('#wf-on-failure').innerText()).trim(), `${notify} v1`);
      assert.equal(await page.locator('#wf-on-failure').getAttribute('href'), `#/workflows/${notify}`);
      assert.equal((await page.locator('#wf-sla').innerText()).trim(), 'SLA 5m (alert and cancel)');
      const runId = await trigger(stack, id);
      const told = await waitFor('the failure run', async () => {
        const res = await stack.call('GET', `/v1/runs?workflowId=${notify}&source=failure`);
        return res.body.items.find((r: { source: { failedRunId?: string } }) => r.source.failedRunId === runId);
      });
      await page.goto(`${api.url}/ui#/runs/${told.id}`);
      const link = page.locator(`a[href="#/runs/${runId}"]`);
      await link.waitFor();
      assert.equal((await link.innerText()).trim(), runId);
      await page.close();
    },
  );

  it('shows two versions side by side with the changed lines marked', { skip }, async () => {
    const id = await createWorkflow(stack, welcome());
    const v2 = welcome();
    v2.steps[0] = { ...v2.steps[0], retry: { maxAttempts: 8 } };
    assert.equal((await stack.call('PUT', `/v1/workflows/${id}`, v2)).status, 200);
    const page = await open(`/ui#/workflows/${id}?tab=Versions`);
    await page.locator('.diff-table tr.added, .diff-table tr.change').first().waitFor();
    const added = await page.locator('.diff-table td.add').allInnerTexts();
    assert.ok(
      added.some((t) => t.includes('"maxAttempts": 8')),
      added.join('\n'),
    );
    await shot(page, 'console-versions');
    await page.close();
  });

  it(
    'triggers a run from the workflow page and watches its run page reach completed with every step',
    { skip },
    async () => {
      const id = await createWorkflow(stack, welcome());
      const page = await open(`/ui#/workflows/${id}?tab=Run`, api.url, 'dark');
      await page.getByLabel('Trigger payload').fill('{"email": "ada@example.com"}');
      await page.getByRole('button', { name: 'Run now' }).click();
      await page.locator('#run-status .badge', { hasText: 'completed' }).waitFor();
      const steps = await page
        .locator('.timeline')
        .first()
        .locator(':scope > .step')
        .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-step')));
      assert.deepEqual(steps, ['crm', 'route', 'vip', 'done']);
      assert.match(
        (await page.getByRole('link', { name: /Temporal Web UI/ }).getAttribute('href')) ?? '',
        /\/namespaces\/default\/workflows\//,
      );
      await page.locator('.step[data-step="crm"] > details > summary').click();
      await page.locator('.step[data-step="vip"] .child summary').first().click();
      await shot(page, 'console-run');
      await page.goto(`${api.url}/ui#/runs?workflowId=${id}`);
      await page.locator('tr[data-run] .badge', { hasText: 'completed' }).waitFor();
      await shot(page, 'console-runs');
      await page.close();
    },
  );

  it('re-drives a failed step from the dead-letter page and the run completes', { skip }, async () => {
    flakyUp = false;
    const id = await createWorkflow(stack, {
      name: 'Sync invoices',
      steps: [
        { id: 'push', type: 'http', config: { method: 'POST', url: `${receiver.url}/flaky` } },
        { id: 'after', type: 'transform', config: { expression: "'synced'" } },
      ],
    });
    const runId = await trigger(stack, id, {});
    const dl = await waitFor(
      'a dead letter',
      async () => (await stack.call('GET', `/v1/dead-letters?workflowId=${id}`)).body.items[0],
    );
    await waitForStatus(stack, runId, 'failed');
    const page = await open(`/ui#/runs/${runId}`);
    // Parked, the run says so, links its dead letter and shows no running duration.
    const parked = page.locator('#run-parked');
    await parked.waitFor();
    assert.match((await parked.textContent()) ?? '', /Parked — waiting for re-drive/);
    assert.match((await page.locator('dd', { hasText: 'until parked' }).textContent()) ?? '', /until parked/);
    await parked.getByRole('link', { name: 'its dead letter' }).click();
    const letter = page.locator(`[data-dead-letter="${dl.id}"]`);
    await letter.waitFor();
    assert.equal(await letter.getAttribute('class'), 'wanted', "the link marks the run's dead letter");
    await shot(page, 'console-dead-letters');
    flakyUp = true;
    await letter.getByRole('button', { name: 'Re-drive', exact: true }).click();
    await letter.waitFor({ state: 'detached' });
    const run = await waitForStatus(stack, runId, 'completed');
    assert.equal(run.steps.find((s: { id: string }) => s.id === 'after')?.output, 'synced');
    assert.equal((await stack.call('GET', `/v1/dead-letters/${dl.id}`)).body.status, 'redriven');
    await page.close();
  });

  it('a run moved to a newer version shows the version it runs and the one it left', { skip }, async () => {
    const approval = { id: 'approval', type: 'wait_for_event', config: { name: 'approved' } };
    const id = await createWorkflow(stack, {
      name: 'Approve expense',
      steps: [approval, { id: 'book', type: 'transform', config: { expression: "'v1'" } }],
    });
    const runId = await trigger(stack, id, {});
    await waitForStatus(stack, runId, 'waiting');
    const saved = await stack.call('PUT', `/v1/workflows/${id}`, {
      name: 'Approve expense',
      steps: [approval, { id: 'book', type: 'transform', config: { expression: "'v2'" } }],
    });
    assert.equal(saved.body.version, 2);
    const offered = await stack.call('POST', `/v1/workflows/${id}/versions/2/migrate`, { dryRun: false });
    assert.equal(offered.body.items[0]?.result, 'accepted', JSON.stringify(offered.body));
    await stack.call('POST', `/v1/runs/${runId}/events/approved`, {});
    assert.equal((await waitForStatus(stack, runId, 'completed')).result, 'v2');
    const page = await open(`/ui#/runs/${runId}`);
    const moved = page.locator('#run-moved-from');
    await moved.waitFor();
    assert.equal(await moved.textContent(), ' (moved from v1)');
    assert.match(
      (await page.locator('dd', { has: moved }).textContent()) ?? '',
      /Approve expense v2 \(moved from v1\)/,
    );
    await page.close();
  });

  it("a run's history names its workflow, version and source, and each activity, local activity, timer and child carries its step id as summary", async () => {
    const child = await createWorkflow(stack, {
      name: 'Child report',
      steps: [{ id: 'inner', type: 'transform', config: { expression: '1' } }],
    });
    const contacts = { method: 'POST', url: `${receiver.url}/contacts` };
    const id = await createWorkflow(stack, {
      name: 'Summaries',
      steps: [
        { id: 'quick', type: 'http', config: contacts },
        { id: 'slow', type: 'http', timeout: '2m', config: contacts },
        { id: 'pause', type: 'delay', config: { duration: '1s' } },
        {
          id: 'each',
          type: 'foreach',
          items: '[1, 2]',
          steps: [{ id: 'ping', type: 'http', timeout: '2m', config: contacts }],
        },
        { id: 'sub', type: 'subworkflow', config: { workflowId: child } },
      ],
    });
    const runId = await trigger(stack, id, {});
    await waitForStatus(stack, runId, 'completed');
    const handle = stack.client.workflow.getHandle(runId);
    const description = await handle.describe();
    assert.equal(await description.staticSummary(), 'Summaries v1 · api');
    assert.match(
      (await description.staticDetails()) ?? '',
      /\*\*Steps\*\* quick \(http\) → slow \(http\) → pause \(delay\) → each \(foreach\) → sub \(subworkflow\)/,
    );
    const events = (await handle.fetchHistory()).events ?? [];
    const summaries = events.flatMap((e) => {
      const summary = e.userMetadata?.summary;
      return summary
        ? [
            `${proto.temporal.api.enums.v1.EventType[e.eventType ?? 0]} ${defaultPayloadConverter.fromPayload<string>(summary)}`,
          ]
        : [];
    });
    for (const expected of [
      'EVENT_TYPE_MARKER_RECORDED quick',
      'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED slow',
      'EVENT_TYPE_TIMER_STARTED pause',
      'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED ping[0]',
      'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED ping[1]',
      'EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED sub → Child report v1',
    ]) {
      assert.ok(summaries.includes(expected), `${expected} in:\n${summaries.join('\n')}`);
    }
    if (!browser) return;
    // The same run in the Temporal Web UI: the step ids label its timeline.
    const run = await stack.call('GET', `/v1/runs/${runId}`);
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, colorScheme: 'light' });
    page.setDefaultTimeout(60_000);
    await page.goto(run.body.links.temporalUi);
    for (const label of ['http • slow', 'pause', 'http • ping[1]', 'sub → Child report v1'])
      await page.getByText(label, { exact: true }).first().waitFor();
    await shot(page, 'temporal-ui-run');
    await page.close();
  });

  it('lists connections with their secret fields as references', { skip }, async () => {
    const body = {
      name: 'mailer',
      type: 'smtp',
      config: { host: '127.0.0.1', port: 2525, user: 'mailer', password: "$secret('smtp_pw')" },
    };
    assert.equal((await stack.call('POST', '/v1/connections', body)).status, 201);
    const page = await open('/ui#/connections');
    const row = page.locator('tr[data-connection="mailer"]');
    await row.waitFor();
    assert.match(await row.innerText(), /smtp[\s\S]*"password": "\$secret\('smtp_pw'\)"/);
    await page.close();
  });

  it('pauses a schedule from the schedules page', { skip }, async () => {
    const id = await createWorkflow(stack, {
      name: 'Nightly report',
      steps: [{ id: 'report', type: 'transform', config: { expression: "'ok'" } }],
    });
    const created = await stack.call('POST', `/v1/workflows/${id}/triggers`, { type: 'schedule', every: '1h' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const page = await open('/ui#/triggers');
    const card = page.locator(`[data-trigger="${created.body.id}"]`);
    await card.locator('.badge', { hasText: 'active' }).waitFor();
    assert.equal(await card.locator('.fire-times li').count(), 5);
    await shot(page, 'console-schedules');
    await card.getByRole('button', { name: 'Pause' }).click();
    await page.locator(`[data-trigger="${created.body.id}"] .badge`, { hasText: 'paused' }).waitFor();
    assert.equal((await stack.call('GET', `/v1/triggers/${created.body.id}`)).body.paused, true);
    await page.close();
  });

  it(
    'the audit page lists calls with subject, route, target and field names, never a value, and filters by target',
    { skip },
    async () => {
      const value = 'audit-page-secret-value';
      const put = await stack.call(
        'PUT',
        '/v1/secrets/audit_page_key',
        { value },
        { 'x-request-id': 'req-audit-page' },
      );
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const page = await open('/ui#/audit');
      const row = page.locator('tr[data-audit]', { hasText: 'audit_page_key' });
      await row.waitFor();
      const text = await row.innerText();
      for (const part of ['anonymous', 'PUT /v1/secrets/:name', 'audit_page_key', '200', 'value'])
        assert.ok(text.includes(part), `${part} in ${text}`);
      assert.equal(await row.locator('td[title="request req-audit-page"]').count(), 1);
      assert.ok(!(await page.locator('main').innerText()).includes(value));
      // The previous test's click on Pause is a console action: it is there too, with its target.
      const paused = page.locator('tr[data-audit]', { hasText: 'POST /v1/triggers/:id/pause' });
      assert.equal(await paused.count(), 1, 'the console pause of the schedules test is audited');
      await page.getByLabel('Target id').fill('audit_page_key');
      await page.getByLabel('Target id').dispatchEvent('change');
      await waitFor('only the filtered events', async () =>
        (await page.locator('tr[data-audit]').count()) === 1 ? true : undefined,
      );
      await shot(page, 'console-audit');
      await page.close();
    },
  );
});
