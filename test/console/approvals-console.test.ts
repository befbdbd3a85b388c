import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, launchChromium, serveHttp } from '../helpers/browser.js';
import { waitFor } from '../helpers/ports.js';
import { createWorkflow, trigger, waitForEnd } from '../helpers/runs.js';
import { startStack, type Stack } from '../helpers/stack.js';

const skip = chromiumMissing();

describe('approvals in a real headless Chromium: the console page and the link page (real Temporal, real PostgreSQL)', () => {
  let stack: Stack;
  let api: Awaited<ReturnType<typeof serveHttp>>;
  let browser: Browser | undefined;
  before(async () => {
    stack = await startStack();
    api = await serveHttp(stack.app.fetch);
    if (!skip) browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await stack?.stop();
  });

  async function open(path: string): Promise<Page> {
    if (!browser) throw new Error('no browser');
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(60_000);
    await page.goto(`${api.url}${path}`);
    return page;
  }

  const definition = (name: string, fields?: unknown) => ({
    name,
    steps: [
      {
        id: 'ask',
        type: 'approval',
        timeout: '1h',
        config: { message: 'Ship order {{ trigger.order }}?', ...(fields ? { fields } : {}) },
        notify: [{ id: 'note', type: 'transform', config: { expression: 'approval.expiresAt' } }],
      },
      { id: 'done', type: 'succeed', config: { output: '{{ steps.ask.output }}' } },
    ],
  });
  const waitingLinks = (runId: string) =>
    waitFor(`run ${runId} to wait for approval`, async () => {
      const run = (await stack.call('GET', `/v1/runs/${runId}`)).body;
      return run?.steps?.find((s: { id: string }) => s.id === 'ask')?.waiting;
    });

  it(
    'the Approvals page lists a pending approval; its Approve button decides the run, with the comment',
    { skip },
    async () => {
      const wf = await createWorkflow(stack, definition('Ship orders'));
      const runId = await trigger(stack, wf, { order: 'o-7' });
      await waitingLinks(runId);
      const page = await open('/ui#/approvals');
      await page.getByRole('heading', { name: 'Approvals' }).waitFor();
      const item = page.locator('li.approval', { hasText: 'Ship order o-7?' });
      await item.waitFor();
      await page.screenshot({ path: join(tmpdir(), 'mini-zaps-approvals-pending.png'), fullPage: true });
      await item.getByPlaceholder('Comment (optional)').fill('looks right');
      await item.getByRole('button', { name: 'Approve' }).click();
      await page.getByText('No approval is waiting.').waitFor();
      const run = await waitForEnd(stack, runId);
      assert.equal(run.status, 'completed');
      assert.equal(run.result.decision, 'approved');
      assert.equal(run.result.comment, 'looks right');
      assert.match(run.result.by.userAgent, /Chrome/);

      // The workflow's diagram draws the approval with its notify block.
      await page.goto(`${api.url}/ui#/workflows/${wf}`);
      const node = page.locator('[data-step="ask"]');
      await node.getByText('notify, then wait for approve or reject').waitFor();
      await node.locator('[data-step="note"]').waitFor();
      await page.close();
    },
  );

  it(
    'the link page shows the form; filled in and confirmed, it rejects the run with the fields',
    { skip },
    async () => {
      const wf = await createWorkflow(
        stack,
        definition('Refunds', {
          type: 'object',
          properties: { amount: { type: 'integer', maximum: 500, title: 'Amount' }, urgent: { type: 'boolean' } },
          required: ['amount'],
        }),
      );
      const runId = await trigger(stack, wf, { order: '<img src=x onerror=alert(1)>' });
      const { rejectUrl } = await waitingLinks(runId);
      const page = await open(new URL(rejectUrl).pathname);
      let dialogs = 0;
      page.on('dialog', (d) => {
        dialogs += 1;
        void d.dismiss();
      });
      await page.getByRole('heading', { name: 'Reject: Refunds' }).waitFor();
      await page.getByText('Ship order <img src=x onerror=alert(1)>?').waitFor();
      assert.equal(await page.locator('main img').count(), 0);
      await page.screenshot({ path: join(tmpdir(), 'mini-zaps-approval-link.png'), fullPage: true });
      await page.getByLabel('Amount').fill('120');
      await page.getByLabel('urgent').check();
      await page.getByLabel('Comment').fill('not this one');
      await page.getByRole('button', { name: 'Reject' }).click();
      await page.getByRole('heading', { name: 'Rejected' }).waitFor();
      const run = await waitForEnd(stack, runId);
      assert.equal(run.result.decision, 'rejected');
      assert.deepEqual(run.result.fields, { amount: 120, urgent: true });
      assert.equal(run.result.comment, 'not this one');
      // The same link again: the page says it was used.
      await page.goto(`${api.url}${new URL(rejectUrl).pathname}`);
      await page.getByRole('heading', { name: 'Gone' }).waitFor();
      assert.equal(dialogs, 0);
      await page.close();
    },
  );
});
