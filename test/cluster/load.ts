import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { waitFor } from '../helpers/ports.js';

/** What pushing triggers through the APIs gave: run id per idempotency key, and how often a call had to be repeated. */
export interface PushResult {
  runIds: Map<string, string>;
  retried: number;
  /** The repeated calls by what the failed attempt got: an HTTP status, or `no answer`. */
  retriedBy: Record<string, number>;
}

/**
 * Pushes `count` triggers, `inFlight` at a time, alternating between `apiUrls`. Each trigger has its
 * own Idempotency-Key and is repeated (on the next API) until acknowledged with 202, as a client
 * of an at-least-once API does; `onAcked(n)` sees the running count, to inject faults midway.
 */
export async function pushTriggers(opts: {
  apiUrls: readonly string[];
  path: string;
  token: string;
  count: number;
  inFlight: number;
  deadlineMs: number;
  onAcked?: (acked: number) => void;
  /** Awaited before each trigger: a closed load waits here until its backlog allows one more. */
  pace?: () => Promise<void>;
}): Promise<PushResult> {
  const runIds = new Map<string, string>();
  let retried = 0;
  const retriedBy: Record<string, number> = {};
  let nextIndex = 0;
  let turn = 0;
  const deadline = Date.now() + opts.deadlineMs;
  const one = async (i: number): Promise<void> => {
    const key = `cluster-${i}`;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`trigger ${key} was not acknowledged in time`);
      const url = opts.apiUrls[turn++ % opts.apiUrls.length];
      const res = await fetch(`${url}${opts.path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ n: i }),
        signal: AbortSignal.timeout(15_000),
      }).catch(() => undefined);
      const body: unknown = res ? await res.json().catch(() => undefined) : undefined;
      if (
        res?.status === 202 &&
        typeof body === 'object' &&
        body !== null &&
        'runId' in body &&
        typeof body.runId === 'string'
      ) {
        runIds.set(key, body.runId);
        opts.onAcked?.(runIds.size);
        return;
      }
      retried++;
      const why = res ? String(res.status) : 'no answer';
      retriedBy[why] = (retriedBy[why] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const lane = async (): Promise<void> => {
    while (nextIndex < opts.count) {
      await opts.pace?.();
      if (nextIndex < opts.count) await one(nextIndex++);
    }
  };
  await Promise.all(Array.from({ length: opts.inFlight }, lane));
  return { runIds, retried, retriedBy };
}

/** One run as Temporal closed it. */
export interface ClosedRun {
  runId: string;
  startedAt: number;
  closedAt: number;
}

/**
 * Waits until Temporal holds `acked.size` completed runs of `workflowId` and the run index confirms
 * every close, then asserts that Temporal holds exactly the acknowledged runs, one execution each,
 * all completed, and that the index lists the same runs, closed as Temporal closed them.
 * @returns the runs with their start and close times, as Temporal recorded them
 */
export async function assertRunsCompleted(opts: {
  temporalAddress: string;
  namespace: string;
  databaseUrl: string;
  workflowId: string;
  acked: ReadonlySet<string>;
}): Promise<ClosedRun[]> {
  const count = opts.acked.size;
  const connection = await Connection.connect({ address: opts.temporalAddress });
  const client = new Client({ connection, namespace: opts.namespace });
  const closed: ClosedRun[] = [];
  try {
    const ofWorkflow = `WorkflowType = 'interpreter' AND MiniZapsWorkflowId = '${opts.workflowId}'`;
    await waitFor(
      'every run to complete in Temporal',
      async () =>
        (await client.workflow.count(`${ofWorkflow} AND ExecutionStatus = 'Completed'`)).count >= count
          ? true
          : undefined,
      10 * 60_000,
    );
    const executions = new Map<string, string>();
    for await (const info of client.workflow.list({ query: ofWorkflow })) {
      assert.ok(!executions.has(info.workflowId), `run ${info.workflowId} has one execution`);
      executions.set(info.workflowId, info.status.name);
      closed.push({
        runId: info.workflowId,
        startedAt: info.startTime.getTime(),
        closedAt: info.closeTime?.getTime() ?? Number.NaN,
      });
    }
    assert.deepEqual(
      [...executions.keys()].sort(),
      [...opts.acked].sort(),
      'Temporal holds exactly the acknowledged runs',
    );
    assert.ok(
      [...executions.values()].every((s) => s === 'COMPLETED'),
      'every run completed',
    );
  } finally {
    await connection.close();
  }
  const db = new pg.Client({ connectionString: opts.databaseUrl });
  await db.connect();
  try {
    const index = await waitFor(
      'the index to confirm every close',
      async () => {
        const { rows } = await db.query<{ id: string; status: string; close_status: string | null }>(
          'SELECT id, status, close_status FROM runs WHERE workflow_id = $1',
          [opts.workflowId],
        );
        return rows.filter((r) => r.close_status === 'Completed').length >= count ? rows : undefined;
      },
      3 * 60_000,
    );
    assert.deepEqual(
      index.map((r) => r.id).sort(),
      [...opts.acked].sort(),
      'the index lists exactly the runs Temporal has',
    );
    assert.ok(
      index.every((r) => r.status === 'completed' && r.close_status === 'Completed'),
      'the index shows each run completed, as Temporal closed it',
    );
  } finally {
    await db.end();
  }
  return closed;
}
