import type { Worker } from '@temporalio/worker';
import { createClaimsRepo, type ClaimsRepo } from '../db/claims-repo.js';
import { createPool, type Pool } from '../db/pool.js';
import { createRunClosuresRepo, type RunClosuresRepo } from '../db/run-closures-repo.js';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import { every } from '../shared/every.js';

export interface RetentionSettings {
  /** Closed runs older than this leave the index (0: kept by age forever). */
  maxAgeDays: number;
  /** Per tenant, only this many newest closed runs stay (0: no bound). */
  maxRunsPerTenant: number;
  /** Runs deleted per statement, so a pass never holds long locks. */
  batchSize?: number;
  /** Audit events older than this leave (0 or absent: kept forever). */
  auditMaxAgeDays?: number;
}

/** What one pass removed. */
export interface Pruned {
  runs: number;
  claims: number;
  /** Kafka messages a trigger dead-lettered (by the same age, and by the same count per trigger). */
  kafkaDeadLetters: number;
  /** Audit events past AUDIT_RETENTION_DAYS. */
  auditEvents: number;
}

/**
 * Prunes the run index and the claim-check data of runs Temporal closed, by age and by count per
 * tenant, like Temporal's own namespace retention does for histories (set the two alike). A run
 * with an open dead letter stays: it can still be re-driven. Runs still open are never touched.
 * Dead-lettered Kafka messages follow the same bounds (the count per trigger), so a topic full of
 * poison cannot fill the database. Audit events leave by their own age bound.
 */
export function createRetention(
  deps: { pool: Pool; claims: ClaimsRepo; closures: Pick<RunClosuresRepo, 'exclusive'>; logger: Logger },
  settings: RetentionSettings,
) {
  const batch = settings.batchSize ?? 500;
  const keep = `closed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.run_id = runs.id AND d.status = 'open')`;

  async function remove(ids: string[]): Promise<{ runs: number; claims: number }> {
    if (!ids.length) return { runs: 0, claims: 0 };
    const { rowCount } = await deps.pool.query(`DELETE FROM runs WHERE id = ANY($1) AND ${keep}`, [ids]);
    await deps.pool.query(`DELETE FROM dead_letters WHERE run_id = ANY($1) AND status <> 'open'`, [ids]);
    let claims = 0;
    for (const id of ids) claims += await deps.claims.deleteRun(id);
    return { runs: rowCount ?? 0, claims };
  }

  async function byAge(): Promise<{ runs: number; claims: number }> {
    if (!settings.maxAgeDays) return { runs: 0, claims: 0 };
    const { rows } = await deps.pool.query<{ id: string }>(
      `SELECT id FROM runs WHERE ${keep} AND closed_at < now() - make_interval(days => $1) ORDER BY closed_at LIMIT $2`,
      [settings.maxAgeDays, batch],
    );
    return remove(rows.map((r) => r.id));
  }

  async function byCount(): Promise<{ runs: number; claims: number }> {
    if (!settings.maxRunsPerTenant) return { runs: 0, claims: 0 };
    const { rows } = await deps.pool.query<{ id: string }>(
      `SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY tenant_id ORDER BY closed_at DESC, id DESC) AS n FROM runs WHERE ${keep}) ranked
       WHERE n > $1 LIMIT $2`,
      [settings.maxRunsPerTenant, batch],
    );
    return remove(rows.map((r) => r.id));
  }

  /** Dead-lettered Kafka messages past the age bound, then beyond the newest `maxRunsPerTenant` of each trigger, in batches. */
  async function kafkaDeadLetters(): Promise<number> {
    let removed = 0;
    const statements: [string, number][] = [];
    if (settings.maxAgeDays)
      statements.push([
        `SELECT tenant_id, id FROM kafka_dead_letters WHERE created_at < now() - make_interval(days => $1) LIMIT $2`,
        settings.maxAgeDays,
      ]);
    if (settings.maxRunsPerTenant)
      statements.push([
        `SELECT tenant_id, id FROM (SELECT tenant_id, id, row_number() OVER (PARTITION BY tenant_id, trigger_id ORDER BY created_at DESC, id DESC) AS n
         FROM kafka_dead_letters) ranked WHERE n > $1 LIMIT $2`,
        settings.maxRunsPerTenant,
      ]);
    for (const [select, bound] of statements) {
      for (;;) {
        const { rowCount } = await deps.pool.query(
          `DELETE FROM kafka_dead_letters WHERE (tenant_id, id) IN (${select})`,
          [bound, batch],
        );
        removed += rowCount ?? 0;
        if ((rowCount ?? 0) < batch) break;
      }
    }
    return removed;
  }

  /** Audit events past their age bound, in batches (the index on `at` finds them). */
  async function auditEvents(): Promise<number> {
    if (!settings.auditMaxAgeDays) return 0;
    let removed = 0;
    for (;;) {
      const { rowCount } = await deps.pool.query(
        `DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < now() - make_interval(days => $1) LIMIT $2)`,
        [settings.auditMaxAgeDays, batch],
      );
      removed += rowCount ?? 0;
      if ((rowCount ?? 0) < batch) return removed;
    }
  }

  return {
    /** Prunes until nothing is left to prune; undefined when another replica holds the turn. */
    async pass(): Promise<Pruned | undefined> {
      return deps.closures.exclusive('retention', async () => {
        const total = { runs: 0, claims: 0, kafkaDeadLetters: 0, auditEvents: 0 };
        for (const step of [byAge, byCount]) {
          for (;;) {
            const done = await step();
            total.runs += done.runs;
            total.claims += done.claims;
            if (done.runs < batch) break;
          }
        }
        total.kafkaDeadLetters = await kafkaDeadLetters();
        total.auditEvents = await auditEvents();
        return total;
      });
    },

    /**
     * A pass every `intervalMs` (the first a minute after start) while `alive()`; checks every few
     * seconds so `onStop` runs soon after the worker stopped. The timer never keeps the process alive.
     */
    start(intervalMs: number, alive: () => boolean, onStop: () => Promise<void> = async () => undefined): void {
      let due = Date.now() + Math.min(intervalMs, 60_000);
      const tick = async (): Promise<void> => {
        if (Date.now() < due) return;
        due = Date.now() + intervalMs;
        try {
          const done = await this.pass();
          if (done?.runs || done?.kafkaDeadLetters || done?.auditEvents)
            deps.logger.info({ ...done }, 'retention pruned closed runs');
        } catch (err) {
          deps.logger.warn({ err }, 'retention pass failed; retrying at the next interval');
        }
      };
      every(2_000, tick, { alive, onEnd: onStop });
    },
  };
}

export type RetentionConfig = Pick<
  Config,
  | 'DATABASE_URL'
  | 'RETENTION_RUNS_MAX_AGE_DAYS'
  | 'RETENTION_RUNS_MAX_PER_TENANT'
  | 'RETENTION_INTERVAL_MS'
  | 'AUDIT_RETENTION_DAYS'
>;

const ENDED_STATES = ['STOPPING', 'DRAINING', 'DRAINED', 'STOPPED', 'FAILED'];

/** Prunes beside a worker until it stops, on a small pool of its own (closed with it); off when every bound is 0. */
export function pruneBeside(worker: Worker, config: RetentionConfig, logger: Logger): void {
  const bounded =
    config.RETENTION_RUNS_MAX_AGE_DAYS || config.RETENTION_RUNS_MAX_PER_TENANT || config.AUDIT_RETENTION_DAYS;
  if (!config.DATABASE_URL || !bounded) return;
  const pool = createPool(config.DATABASE_URL, logger, 2);
  const retention = createRetention(
    {
      pool,
      claims: createClaimsRepo(pool),
      closures: createRunClosuresRepo(pool),
      logger: logger.child({ component: 'retention' }),
    },
    {
      maxAgeDays: config.RETENTION_RUNS_MAX_AGE_DAYS,
      maxRunsPerTenant: config.RETENTION_RUNS_MAX_PER_TENANT,
      auditMaxAgeDays: config.AUDIT_RETENTION_DAYS,
    },
  );
  retention.start(
    config.RETENTION_INTERVAL_MS,
    () => !ENDED_STATES.includes(worker.getState()),
    () => pool.end(),
  );
}
