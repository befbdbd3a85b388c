// `npm run histories:record`: runs one workflow per scenario below against a real dev server and
// writes each run's event history to test/histories/<scenario>.json. `test/engine/replay.test.ts` replays
// them all against the current workflow code, so a change that breaks running workflows fails CI.
// Existing files are kept (pass --all to record everything again): they are what proves that the
// current code still replays histories written by older code.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { DEFAULT_RUN_LIMITS } from '../src/shared/run-limits.js';
import { responseUpdate, type RunInput } from '../src/workflows/run-model.js';
import { eventKeyId } from '../src/workflows/event-messages.js';
import { startReceiver } from '../test/helpers/receiver.js';
import { waitFor } from '../test/helpers/ports.js';
import { createWorkflow, trigger, waitForEnd, waitForStatus } from '../test/helpers/runs.js';
import { startStack, toolPaths } from '../test/helpers/stack.js';

const stack = await startStack();
const receiver = await startReceiver();
receiver.on('/ok', (req) => ({ status: 200, body: { echo: req.body ? JSON.parse(req.body) : null } }));
receiver.on('/flaky', (_req, n) => (n <= 2 ? { status: 503 } : { status: 200, body: { n } }));
receiver.on('/missing', () => ({ status: 404 }));
let repaired = false;
receiver.on('/repairable', () => (repaired ? { status: 200, body: { ok: true } } : { status: 500 }));
let repairedLocal = false;
receiver.on('/repairable-local', () => (repairedLocal ? { status: 200, body: { ok: true } } : { status: 500 }));
let repairedRevision2 = false;
receiver.on('/repairable-revision-2', () =>
  repairedRevision2 ? { status: 200, body: { ok: true } } : { status: 500 },
);
receiver.on('/held', () => ({ status: 200, body: { ok: true }, delayMs: 300 }));
const ok = `${receiver.url}/ok`;
const transform = (id: string, expression: string) => ({ id, type: 'transform', config: { expression } });

const child = await createWorkflow(stack, { name: 'child', steps: [transform('twice', 'trigger.n * 2')] });
const refusing = await createWorkflow(stack, {
  name: 'refusing',
  steps: [{ id: 'no', type: 'fail', config: { error: 'REFUSED', message: 'no' } }],
});

const notify = await createWorkflow(stack, {
  name: 'notify',
  steps: [{ id: 'post', type: 'http', config: { method: 'POST', url: ok, body: '{{ trigger }}' } }],
});

const scenarios: Record<
  string,
  {
    definition: unknown;
    payload?: unknown;
    during?: (runId: string) => Promise<void>;
    extra?: (runId: string) => string[];
  }
> = {
  'revision-3-bounded': {
    definition: {
      name: 'bounded run',
      steps: [
        transform('sum', '$sum(trigger.values)'),
        {
          id: 'call',
          type: 'http',
          config: {
            method: 'POST',
            url: ok,
            headers: { 'x-name': '{{ $uppercase(trigger.name) }}' },
            body: { sum: '{{ steps.sum.output }}' },
          },
        },
        { id: 'each', type: 'foreach', items: 'trigger.values', steps: [transform('double', '$string(item * 2)')] },
        {
          id: 'endless',
          type: 'transform',
          config: { expression: '($f := function($n){ $f($n + 1) }; $f(0))' },
          onError: 'continue',
        },
        transform('done', '{ "sum": steps.sum.output, "each": steps.each.output, "limit": steps.endless.error.code }'),
      ],
    },
    payload: { values: [1, 2, 3], name: 'ada' },
  },
  'code-step': {
    definition: {
      name: 'code',
      steps: [
        {
          id: 'sum',
          type: 'code',
          config: {
            language: 'javascript',
            input: '{{ trigger.values }}',
            source: 'return input.reduce((s, v) => s + v, ctx.trigger.base);',
          },
        },
        {
          id: 'thrown',
          type: 'code',
          config: { language: 'javascript', source: 'throw new Error("no");' },
          onError: 'continue',
        },
        transform('done', '{ "sum": steps.sum.output, "thrown": steps.thrown.error.code }'),
      ],
    },
    payload: { values: [1, 2, 3], base: 10 },
  },
  linear: {
    definition: {
      name: 'linear',
      steps: [
        { id: 'wait', type: 'delay', config: { duration: '100ms' } },
        {
          id: 'call',
          type: 'http',
          config: { method: 'POST', url: ok, body: { a: '{{ trigger.a }}' } },
          output: 'output.body',
        },
        { id: 'skipped', type: 'transform', when: 'false', config: { expression: '1' } },
        { id: 'hook', type: 'webhook', config: { url: ok } },
        transform('shape', '{ "a": steps.call.output.echo.a }'),
        { id: 'end', type: 'succeed' },
      ],
    },
    payload: { a: 1 },
  },
  retries: {
    definition: {
      name: 'retries',
      steps: [
        {
          id: 'call',
          type: 'http',
          config: { url: `${receiver.url}/flaky` },
          retry: { initialInterval: '100ms', backoffCoefficient: 1 },
        },
      ],
    },
  },
  'http-failure': {
    definition: {
      name: 'http failure',
      steps: [{ id: 'call', type: 'http', config: { url: `${receiver.url}/missing` } }],
    },
  },
  'fail-step': {
    definition: {
      name: 'fail',
      steps: [{ id: 'stop', type: 'fail', config: { error: 'STOPPED', message: 'stopped {{ trigger.why }}' } }],
    },
    payload: { why: 'here' },
  },
  'on-error': {
    definition: {
      name: 'on error',
      steps: [
        { id: 'call', type: 'http', config: { url: `${receiver.url}/missing` }, onError: 'recover' },
        { id: 'bad', type: 'fail' },
        { id: 'recover', type: 'transform', config: { expression: 'steps.call.error.code' }, onError: 'continue' },
      ],
    },
  },
  'parallel-fail-fast': {
    definition: {
      name: 'parallel',
      steps: [
        {
          id: 'fan',
          type: 'parallel',
          branches: [
            [{ id: 'a', type: 'http', config: { url: ok } }],
            [transform('b', '2')],
            [{ id: 'c', type: 'delay', config: { duration: '100ms' } }],
          ],
        },
        transform('join', '[steps.a.output.status, steps.b.output]'),
        {
          id: 'fan2',
          type: 'parallel',
          branches: [
            [{ id: 'x', type: 'http', config: { url: `${receiver.url}/missing` } }],
            [{ id: 'y', type: 'delay', config: { duration: '1h' } }],
          ],
        },
      ],
    },
  },
  'parallel-report-all': {
    definition: {
      name: 'report all',
      steps: [
        {
          id: 'fan',
          type: 'parallel',
          failFast: false,
          branches: [[{ id: 'x', type: 'http', config: { url: `${receiver.url}/missing` } }], [transform('ok', '1')]],
        },
      ],
    },
  },
  'choice-loop': {
    definition: {
      name: 'loop',
      steps: [
        transform('inc', '(steps.inc.output ? steps.inc.output : 0) + 1'),
        { id: 'again', type: 'choice', cases: [{ when: 'steps.inc.output < 3', next: 'inc' }], default: 'done' },
        { id: 'done', type: 'succeed', config: { output: '{{ steps.inc.output }}' } },
      ],
    },
  },
  'foreach-inline': {
    definition: {
      name: 'foreach',
      steps: [
        {
          id: 'each',
          type: 'foreach',
          items: '[1..5]',
          concurrency: 2,
          steps: [
            { id: 'call', type: 'http', config: { method: 'POST', url: ok, body: { i: '{{ index }}' } } },
            transform('pick', 'item * 10'),
          ],
        },
      ],
    },
  },
  'foreach-batched': {
    definition: {
      name: 'batched',
      steps: [
        { id: 'each', type: 'foreach', items: '[1..250]', concurrency: 20, steps: [transform('double', 'item * 2')] },
      ],
    },
    extra: (runId) => [`${runId}:each:batch-0`],
  },
  'wait-for-event': {
    definition: {
      name: 'events',
      steps: [
        { id: 'approval', type: 'wait_for_event', config: { name: 'approved' } },
        { id: 'late', type: 'wait_for_event', config: { name: 'never', timeout: '200ms' }, onTimeout: 'done' },
        { id: 'unreached', type: 'fail' },
        transform('done', 'steps.approval.output'),
      ],
    },
    during: async (runId) => {
      await waitForStatus(stack, runId, 'waiting');
      await stack.call('POST', `/v1/runs/${runId}/events/approved`, { by: 'ada' });
    },
  },
  // Moved to v2 while it waits: the accepted `migrate` update is in the history, and the run
  // finishes on v2's steps.
  'migrated-wait-for-event': {
    definition: {
      name: 'moves',
      steps: [
        { id: 'approval', type: 'wait_for_event', config: { name: 'approved' } },
        transform('notify', '"v1: " & steps.approval.output.by'),
      ],
    },
    during: async (runId) => {
      await waitForStatus(stack, runId, 'waiting');
      await offerVersion(runId, {
        name: 'moves',
        steps: [
          { id: 'approval', type: 'wait_for_event', config: { name: 'approved' } },
          transform('greet', '"v2: " & steps.approval.output.by'),
          transform('done', '{ "greeting": steps.greet.output, "version": run.version }'),
        ],
      });
      await stack.call('POST', `/v1/runs/${runId}/events/approved`, { by: 'ada' });
    },
  },
  // Offered a v2 without the step it waits in: it refuses and finishes on v1.
  'migration-refused': {
    definition: {
      name: 'stays',
      steps: [{ id: 'hold', type: 'wait_for_event', config: { name: 'go' } }, transform('after', '"v1"')],
    },
    during: async (runId) => {
      await waitForStatus(stack, runId, 'waiting');
      await offerVersion(runId, { name: 'stays', steps: [transform('after', '"v2"')] });
      await stack.call('POST', `/v1/runs/${runId}/events/go`, {});
    },
  },
  subworkflow: {
    definition: {
      name: 'parent',
      steps: [
        { id: 'sub', type: 'subworkflow', config: { workflowId: child, input: { n: 21 } } },
        { id: 'bad', type: 'subworkflow', config: { workflowId: refusing }, onError: 'continue' },
      ],
    },
    extra: (runId) => [`${runId}:sub`, `${runId}:bad`],
  },
  'dead-letter-redrive': {
    definition: {
      name: 'parks',
      steps: [
        {
          id: 'call',
          type: 'http',
          config: { url: `${receiver.url}/repairable` },
          retry: { maxAttempts: 2, initialInterval: '100ms' },
        },
        transform('after', '1'),
      ],
    },
    during: async (runId) => {
      const dl = await waitForDeadLetter(runId);
      repaired = true;
      await stack.call('POST', `/v1/dead-letters/${dl}/redrive`, {});
    },
  },
  'dead-letter-discard': {
    definition: {
      name: 'discarded',
      steps: [{ id: 'call', type: 'http', config: { url: `${receiver.url}/missing` } }],
    },
    during: async (runId) => {
      await stack.call('DELETE', `/v1/dead-letters/${await waitForDeadLetter(runId)}?reason=test`);
    },
  },
  // Recorded since connector steps of up to 30 s run as local activities (the files above predate it).
  'local-linear': {
    definition: {
      name: 'local',
      steps: [
        {
          id: 'call',
          type: 'http',
          config: { method: 'POST', url: ok, body: { a: '{{ trigger.a }}' } },
          output: 'output.body',
        },
        { id: 'regular', type: 'http', local: false, config: { url: ok } },
        { id: 'long', type: 'webhook', timeout: '2m', config: { url: ok } },
        transform('shape', '{ "a": steps.call.output.echo.a }'),
      ],
    },
    payload: { a: 1 },
  },
  'local-retries': {
    definition: {
      name: 'local retries',
      steps: [
        {
          id: 'call',
          type: 'http',
          config: { url: `${receiver.url}/flaky` },
          retry: { initialInterval: '100ms', backoffCoefficient: 1 },
        },
      ],
    },
  },
  'local-dead-letter-redrive': {
    definition: {
      name: 'parks',
      steps: [
        {
          id: 'call',
          type: 'http',
          config: { url: `${receiver.url}/repairable-local` },
          retry: { maxAttempts: 2, initialInterval: '100ms' },
        },
        transform('after', '1'),
      ],
    },
    during: async (runId) => {
      const dl = await waitForDeadLetter(runId);
      repairedLocal = true;
      await stack.call('POST', `/v1/dead-letters/${dl}/redrive`, {});
    },
  },
  'local-parallel': {
    definition: {
      name: 'local parallel',
      steps: [
        {
          id: 'fan',
          type: 'parallel',
          failFast: false,
          branches: [
            [{ id: 'x', type: 'http', config: { url: `${receiver.url}/missing` }, onError: 'continue' }],
            [{ id: 'y', type: 'http', config: { url: ok } }],
          ],
        },
      ],
    },
  },
  // Recorded since runs carry their interpreter revision (2): local steps and parking without patch markers.
  'revision-2-linear': {
    definition: {
      name: 'revision 2',
      steps: [
        {
          id: 'call',
          type: 'http',
          config: { method: 'POST', url: ok, body: { a: '{{ trigger.a }}' } },
          output: 'output.body',
        },
        { id: 'regular', type: 'http', local: false, config: { url: ok } },
        { id: 'each', type: 'foreach', items: '[1..2]', steps: [{ id: 'item', type: 'http', config: { url: ok } }] },
        transform('shape', '{ "a": steps.call.output.echo.a }'),
      ],
    },
    payload: { a: 1 },
  },
  'revision-2-dead-letter-redrive': {
    definition: {
      name: 'parks',
      steps: [
        {
          id: 'call',
          type: 'http',
          config: { url: `${receiver.url}/repairable-revision-2` },
          retry: { maxAttempts: 2, initialInterval: '100ms' },
        },
        transform('after', '1'),
      ],
    },
    during: async (runId) => {
      const dl = await waitForDeadLetter(runId);
      repairedRevision2 = true;
      await stack.call('POST', `/v1/dead-letters/${dl}/redrive`, {});
    },
  },
  'run-timeout': {
    definition: {
      name: 'times out',
      timeout: '300ms',
      steps: [{ id: 'wait', type: 'delay', config: { duration: '1h' } }],
    },
  },
  cancelled: {
    definition: { name: 'cancelled', steps: [{ id: 'wait', type: 'delay', config: { duration: '1h' } }] },
    during: async (runId) => {
      await waitForStatus(stack, runId, 'waiting');
      await stack.call('POST', `/v1/runs/${runId}/cancel`);
    },
  },
  // Recorded since a run's final record reaches the index through a sink (revision 5): its history
  // ends without the local activity that recorded it before.
  'revision-5-linear': {
    definition: {
      name: 'revision 5',
      steps: [
        transform('before', '{ "n": trigger.n * 2 }'),
        { id: 'call', type: 'http', config: { method: 'POST', url: ok, body: '{{ steps.before.output }}' } },
        transform('after', '{ "n": steps.call.output.body.echo.n }'),
      ],
    },
    payload: { n: 21 },
  },
  'revision-5-failed': {
    definition: {
      name: 'revision 5 fails',
      steps: [
        transform('look', 'trigger.why'),
        { id: 'call', type: 'http', config: { url: ok } },
        { id: 'stop', type: 'fail', config: { error: 'REFUSED', message: 'refused: {{ steps.look.output }}' } },
      ],
    },
    payload: { why: 'no' },
  },
  // Recorded since a run takes its turn in its tenant's start quota before its first step (revision 6).
  'revision-6-linear': {
    definition: {
      name: 'revision 6',
      steps: [transform('before', '{ "n": trigger.n * 2 }'), { id: 'call', type: 'http', config: { url: ok } }],
    },
    payload: { n: 21 },
  },
  // Recorded since a run started through the API takes the start-quota turn the API reserved, without a local activity (revision 11).
  'revision-11-linear': {
    definition: {
      name: 'revision 11',
      steps: [transform('before', '{ "n": trigger.n * 2 }'), { id: 'call', type: 'http', config: { url: ok } }],
    },
    payload: { n: 21 },
  },
  // Events by key: a wait on a key, an anyOf on it, and a cancelOn never fired; the key's correlation workflow too.
  'events-by-key': {
    definition: {
      name: 'events by key',
      cancelOn: [{ name: 'stop', key: '{{ trigger.order }}' }],
      steps: [
        { id: 'paid', type: 'wait_for_event', config: { name: 'paid', key: '{{ trigger.order }}' } },
        { id: 'outcome', type: 'wait_for_event', config: { anyOf: ['shipped', 'lost'], key: '{{ trigger.order }}' } },
        transform('done', '{ "paid": steps.paid.output, "outcome": steps.outcome.output }'),
      ],
    },
    payload: { order: 'recorded-order' },
    during: async (runId) => {
      await waitForStatus(stack, runId, 'waiting');
      await stack.call('POST', '/v1/events', { name: 'paid', key: 'recorded-order', payload: { n: 1 }, id: 'evt-1' });
      await stack.call('POST', '/v1/events', { name: 'lost', key: 'recorded-order', payload: { n: 2 }, id: 'evt-2' });
    },
    extra: () => [eventKeyId('default', 'paid', 'recorded-order')],
  },
  // A run cancelled by an event under its cancelOn key, wherever it is (here: a long delay).
  'events-cancel-on': {
    definition: {
      name: 'cancel on',
      cancelOn: [{ name: 'stop', key: '{{ trigger.order }}' }],
      steps: [{ id: 'wait', type: 'delay', config: { duration: '1h' } }],
    },
    payload: { order: 'recorded-cancel' },
    during: async (runId) => {
      await waitForStatus(stack, runId, 'waiting');
      await stack.call('POST', '/v1/events', { name: 'stop', key: 'recorded-cancel', id: 'evt-stop' });
    },
  },
  // Since revision 10 a run with a failure workflow starts it when it parks (again after a re-drive
  // that fails), fails or times out, and a run with an SLA holds a timer for it.
  'revision-10-failure-parked': {
    definition: {
      name: 'parks and tells',
      onFailure: { workflowId: notify },
      steps: [
        transform('before', '1'),
        { id: 'call', type: 'http', config: { url: `${receiver.url}/missing` }, retry: { maxAttempts: 1 } },
      ],
    },
    during: async (runId) => {
      const first = await waitForDeadLetter(runId);
      await stack.call('POST', `/v1/dead-letters/${first}/redrive`, {});
      const second = await waitFor('a second dead letter', async () => {
        const res = await stack.call('GET', '/v1/dead-letters?limit=200&status=open');
        return res.body.items.find((d: { runId: string; id: string }) => d.runId === runId && d.id !== first)?.id;
      });
      await stack.call('DELETE', `/v1/dead-letters/${second}?reason=recorded`);
    },
  },
  'revision-10-failed': {
    definition: {
      name: 'fails and tells',
      onFailure: { workflowId: notify },
      steps: [transform('before', '1'), { id: 'stop', type: 'fail', config: { error: 'REFUSED', message: 'no' } }],
    },
  },
  'revision-10-timed-out': {
    definition: {
      name: 'times out and tells',
      timeout: '300ms',
      onFailure: { workflowId: notify },
      steps: [{ id: 'wait', type: 'delay', config: { duration: '1h' } }],
    },
  },
  'revision-10-sla-alert': {
    definition: {
      name: 'late and tells',
      onFailure: { workflowId: notify },
      sla: { maxDuration: '1s', onBreach: 'alert' },
      steps: [{ id: 'wait', type: 'delay', config: { duration: '2s' } }, transform('after', '1')],
    },
  },
  'revision-10-sla-cancel': {
    definition: {
      name: 'late, tells and is cancelled',
      onFailure: { workflowId: notify },
      sla: { maxDuration: '1s', onBreach: 'alert_and_cancel' },
      steps: [{ id: 'wait', type: 'delay', config: { duration: '1h' } }],
    },
  },
  // Approved by link while a second decision comes too late; the notify block saw the links.
  'approval-decided': {
    definition: {
      name: 'approval',
      steps: [
        {
          id: 'ask',
          type: 'approval',
          timeout: '1h',
          config: {
            message: 'Ship {{ trigger.order }}?',
            fields: { type: 'object', properties: { n: { type: 'integer' } } },
          },
          notify: [transform('note', 'approval.approveUrl')],
        },
        transform('done', 'steps.ask.output.decision'),
      ],
    },
    payload: { order: 'o-1' },
    during: async (runId) => {
      const run = await waitForStatus(stack, runId, 'waiting');
      const { approveUrl, rejectUrl } = run.steps.find((s: { id: string }) => s.id === 'ask').waiting;
      const decide = (url: string) =>
        stack.app.request(new URL(url).pathname, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ fields: { n: 1 } }),
        });
      await decide(approveUrl);
      await decide(rejectUrl);
    },
  },
  'approval-timed-out': {
    definition: {
      name: 'approval times out',
      steps: [
        { id: 'ask', type: 'approval', timeout: '300ms', config: { message: 'anyone?' }, onTimeout: 'late' },
        { id: 'unreached', type: 'fail' },
        transform('late', 'steps.ask.output'),
      ],
    },
  },
  // A respond step answers the caller's update while the run goes on to wait for an event.
  'respond-step': {
    definition: {
      name: 'respond',
      steps: [
        {
          id: 'ack',
          type: 'respond',
          config: { status: 201, headers: { 'x-order': '{{ trigger.order }}' }, body: 'ok' },
        },
        { id: 'hold', type: 'wait_for_event', config: { name: 'go' } },
        transform('done', 'steps.ack.output'),
      ],
    },
    payload: { order: 'o-2' },
    during: async (runId) => {
      await stack.client.workflow.getHandle(runId).executeUpdate(responseUpdate);
      await waitForStatus(stack, runId, 'waiting');
      await stack.call('POST', `/v1/runs/${runId}/events/go`, {});
    },
  },
  // Three branches on one key with a rate and one slot: each waits on timers for its turn and its slot.
  'rate-limited': {
    definition: {
      name: 'rate-limited',
      steps: [
        {
          id: 'fan',
          type: 'parallel',
          branches: [1, 2, 3].map((n) => [
            {
              id: `call${n}`,
              type: 'http',
              rateLimit: { key: 'recorded', perSecond: 20, concurrency: 1 },
              config: { url: `${receiver.url}/held` },
            },
          ]),
        },
      ],
    },
  },
};

/** Saves `definition` as the run's workflow's next version and offers it to the run. */
async function offerVersion(runId: string, definition: unknown): Promise<void> {
  const { workflowId } = (await stack.call('GET', `/v1/runs/${runId}`)).body;
  const { version } = (await stack.call('PUT', `/v1/workflows/${workflowId}`, definition)).body;
  const res = await stack.call('POST', `/v1/workflows/${workflowId}/versions/${version}/migrate`, {
    dryRun: false,
    runIds: [runId],
  });
  process.stdout.write(`offered v${version} to ${runId}: ${res.body.items?.[0]?.result ?? res.status}\n`);
}

async function waitForDeadLetter(runId: string): Promise<string> {
  return waitFor('a dead letter', async () => {
    const res = await stack.call('GET', '/v1/dead-letters?limit=200');
    return res.body.items.find((d: { runId: string }) => d.runId === runId)?.id;
  });
}

const dir = new URL('../test/histories/', import.meta.url);
async function save(name: string, workflowId: string, runId?: string): Promise<void> {
  // The CLI writes the standard JSON form of a history, the one the replayer reads.
  const args = [
    'workflow',
    'show',
    '--workflow-id',
    workflowId,
    '--output',
    'json',
    '--address',
    stack.config.TEMPORAL_ADDRESS,
    ...(runId ? ['--run-id', runId] : []),
  ];
  const history = JSON.parse(execFileSync(toolPaths().temporal, args, { encoding: 'utf8' }));
  // Ids derived from the workflow id (child runs) must match on replay, so it is kept too.
  await writeFile(new URL(`${name}.json`, dir), `${JSON.stringify({ workflowId, history })}\n`);
  process.stdout.write(`recorded ${name} (${history.events.length} events)\n`);
}

const recorded = (name: string) => existsSync(new URL(`${name}.json`, dir)) && !process.argv.includes('--all');

try {
  for (const [name, s] of Object.entries(scenarios)) {
    if (recorded(name)) continue;
    const runId = await trigger(stack, await createWorkflow(stack, s.definition), s.payload ?? {});
    await s.during?.(runId);
    await waitForEnd(stack, runId);
    await stack.client.workflow
      .getHandle(runId)
      .result()
      .catch(() => undefined);
    await save(name, runId);
    for (const [i, id] of (s.extra?.(runId) ?? []).entries()) await save(`${name}-child-${i}`, id);
  }
  // Continue-as-new: the first execution (ending in ContinueAsNew) and the one that finished.
  if (!recorded('continue-as-new-first')) await recordContinueAsNew();
  if (!recorded('revision-3-rate-limited')) await recordRevision3RateLimited();
  if (!recorded('revision-6-scheduled')) await recordScheduled();
} finally {
  await stack.stop();
  await receiver.close();
}

async function recordContinueAsNew(): Promise<void> {
  const loop = {
    name: 'long loop',
    steps: [
      { id: 'wait', type: 'delay', config: { duration: '1ms' } },
      transform('inc', '(steps.inc.output ? steps.inc.output : 0) + 1'),
      { id: 'again', type: 'choice', cases: [{ when: 'steps.inc.output < 4', next: 'wait' }], default: 'done' },
      transform('done', 'steps.inc.output'),
    ],
  };
  const input: RunInput = {
    tenantId: 'default',
    workflowId: 'loop',
    version: 1,
    definition: loop as RunInput['definition'],
    trigger: {},
    historyLimit: 12,
  };
  const handle = await stack.client.workflow.start('interpreter', {
    taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
    workflowId: 'continue-as-new',
    args: [input],
  });
  await handle.result();
  await save('continue-as-new-first', 'continue-as-new', handle.firstExecutionRunId);
  await save('continue-as-new-last', 'continue-as-new');
}

// Before revision 4 a step reserved its rate-limit slot with a local activity; such runs replay that way.
async function recordRevision3RateLimited(): Promise<void> {
  const call = (id: string) => ({
    id,
    type: 'http',
    rateLimit: { key: 'revision-3', perSecond: 5 },
    config: { url: ok },
  });
  const input: RunInput = {
    revision: 3,
    limits: DEFAULT_RUN_LIMITS,
    tenantId: 'default',
    workflowId: 'revision-3-rate-limited',
    version: 1,
    definition: { name: 'rate-limited', steps: [call('first'), call('second')] } as RunInput['definition'],
    trigger: {},
  };
  const handle = await stack.client.workflow.start('interpreter', {
    taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
    workflowId: 'revision-3-rate-limited',
    args: [input],
  });
  await handle.result();
  await save('revision-3-rate-limited', 'revision-3-rate-limited');
}

// Since revision 6 a schedule starts the run itself: the run reads its trigger first (and ends
// skipped when the trigger is gone).
async function recordScheduled(): Promise<void> {
  const workflowId = await createWorkflow(stack, { name: 'scheduled', steps: [transform('source', 'run.source')] });
  const addTrigger = async () =>
    (await stack.call('POST', `/v1/workflows/${workflowId}/triggers`, { type: 'schedule', cron: '0 9 1 1 *' })).body
      .id as string;
  const fired = await addTrigger();
  await stack.call('POST', `/v1/triggers/${fired}/run`);
  const runId = await waitFor('the scheduled run', async () => {
    const res = await stack.call('GET', `/v1/runs?workflowId=${workflowId}&source=schedule`);
    return res.body.items[0]?.id as string | undefined;
  });
  await waitForEnd(stack, runId);
  await save('revision-6-scheduled', runId);
  const deleted = await addTrigger();
  await stack.pool.query('DELETE FROM triggers WHERE id = $1', [deleted]);
  await stack.client.schedule.getHandle(`trigger-${deleted}`).trigger();
  const skipped = await waitFor('the skipped firing', async () => {
    for await (const e of stack.client.workflow.list({ query: `WorkflowId STARTS_WITH 'run-${deleted}'` }))
      return e.workflowId;
    return undefined;
  });
  await stack.client.workflow.getHandle(skipped).result();
  await save('revision-6-scheduled-skipped', skipped);
}
