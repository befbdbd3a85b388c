import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mintToken } from '../../src/shared/tokens.js';
import { waitFor } from '../helpers/ports.js';
import { useStack } from '../helpers/use-stack.js';

const SECRET = 'tenant-bounds-test-secret-that-is-long-enough';
/** Low bounds, so a test reaches them with a handful of calls. */
const MAX_TRIGGERS = 3;
const START_RATE = 1;
const FLOOD = 30;

describe('per-tenant bounds: trigger count and start quota (real Temporal, PostgreSQL)', () => {
  const suite = useStack({
    env: {
      AUTH_MODE: 'hs256',
      AUTH_HS256_SECRET: SECRET,
      TENANT_MAX_TRIGGERS: String(MAX_TRIGGERS),
      TENANT_START_RATE: String(START_RATE),
    },
  });
  const auth: Record<string, Record<string, string>> = {};
  const as = async (tenant: string, method: string, path: string, body?: unknown) => {
    auth[tenant] ??= { authorization: `Bearer ${await mintToken(SECRET, { tenant, scopes: ['admin'] })}` };
    return suite.stack.call(method, path, body, auth[tenant]);
  };
  async function workflow(tenant: string, name: string): Promise<string> {
    const res = await as(tenant, 'POST', '/v1/workflows', {
      name,
      steps: [{ id: 'echo', type: 'transform', config: { expression: 'trigger' } }],
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  }

  it('a tenant has at most TENANT_MAX_TRIGGERS triggers: one more is refused with 409 TOO_MANY_TRIGGERS, others are not', async () => {
    const wf = await workflow('capped', 'capped');
    const body = { type: 'schedule', cron: '0 9 * * *' };
    const ids: string[] = [];
    for (let i = 0; i < MAX_TRIGGERS; i++) {
      const res = await as('capped', 'POST', `/v1/workflows/${wf}/triggers`, body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      ids.push(res.body.id);
    }
    const refused = await as('capped', 'POST', `/v1/workflows/${wf}/triggers`, body);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'TOO_MANY_TRIGGERS');
    assert.equal((await as('capped', 'GET', `/v1/workflows/${wf}/triggers`)).body.items.length, MAX_TRIGGERS);
    // Another tenant's count is its own.
    const other = await workflow('uncapped', 'other');
    assert.equal((await as('uncapped', 'POST', `/v1/workflows/${other}/triggers`, body)).status, 201);
    // Deleting one makes room again.
    assert.equal((await as('capped', 'DELETE', `/v1/triggers/${ids[0]}`)).status, 204);
    assert.equal((await as('capped', 'POST', `/v1/workflows/${wf}/triggers`, body)).status, 201);
  });

  it("a tenant's flood of runs waits in line within its start quota: none is lost, and another tenant's run is not held up", async () => {
    const flooding = await workflow('flood', 'flood');
    const quiet = await workflow('quiet', 'quiet');
    const floodRuns: string[] = [];
    for (let i = 0; i < FLOOD; i++) {
      const res = await as('flood', 'POST', `/v1/workflows/${flooding}/runs`, { i });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      floodRuns.push(res.body.runId);
    }
    const quietRun = (await as('quiet', 'POST', `/v1/workflows/${quiet}/runs`, { quiet: true })).body.runId as string;
    const status = async (tenant: string, id: string) => (await as(tenant, 'GET', `/v1/runs/${id}`)).body.status;
    await waitFor('the quiet tenant’s run', async () =>
      (await status('quiet', quietRun)) === 'completed' ? true : undefined,
    );
    // At 1 start a second, the flood takes about 30 s to start: the quiet run did not wait behind it.
    const floodDone = (await Promise.all(floodRuns.map((id) => status('flood', id)))).filter((s) => s === 'completed');
    assert.ok(
      floodDone.length < FLOOD,
      `the quiet run ended before the flood did (${floodDone.length} of ${FLOOD} done)`,
    );

    await waitFor(
      'every run of the flood',
      async () => {
        const states = await Promise.all(floodRuns.map((id) => status('flood', id)));
        return states.every((s) => s === 'completed') ? true : undefined;
      },
      120_000,
    );
    // Each run once: the index holds each id exactly once, and each ran its step with its own payload.
    const { rows } = await suite.stack.pool.query<{ id: string; n: number }>(
      'SELECT id, count(*)::int AS n FROM runs WHERE workflow_id = $1 GROUP BY id',
      [flooding],
    );
    assert.equal(rows.length, FLOOD);
    assert.ok(rows.every((r) => r.n === 1 && floodRuns.includes(r.id)));
    // The quota held the flood back: some of its runs waited on the quota's timer. The API reserved
    // each run's turn, so a run asked for it (a local activity) only once its wait was over.
    let waited = 0;
    for (const id of floodRuns) {
      const history = await suite.stack.client.workflow.getHandle(id).fetchHistory();
      const timers = history.events?.filter((e) => e.timerStartedEventAttributes).length ?? 0;
      const asked =
        history.events?.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length ??
        0;
      assert.equal(asked, timers, `run ${id}: one ask per wait (${asked} asks, ${timers} waits)`);
      if (timers > 0) waited += 1;
    }
    assert.ok(waited >= FLOOD / 2, `${waited} of ${FLOOD} runs waited for their turn`);
    // The first run of the flood took its turn at once: no local activity, no timer.
    const first = await suite.stack.client.workflow.getHandle(floodRuns[0]!).fetchHistory();
    assert.ok(!first.events?.some((e) => e.markerRecordedEventAttributes || e.timerStartedEventAttributes));
  });
});
