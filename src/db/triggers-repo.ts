import { randomUUID } from 'node:crypto';
import { AppError, notFound } from '../shared/errors.js';
import type { KafkaSettings } from '../definitions/kafka-trigger.js';
import type { ScheduleSettings } from '../definitions/schedule-trigger.js';
import type { Pool, PoolClient } from './pool.js';

interface TriggerBase {
  id: string;
  tenantId: string;
  workflowId: string;
  /** The pinned version; null: the latest version at each firing. */
  version: number | null;
  paused: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A schedule trigger (a Temporal Schedule). */
export interface TriggerRow extends TriggerBase {
  type: 'schedule';
  config: ScheduleSettings;
}

/** Partition → offset: where a Kafka trigger starts on each partition of its topic (a partition not named: at 0). */
export type StartOffsets = Record<string, string>;

/** A Kafka trigger: the trigger service consumes its topic. */
export interface KafkaTriggerRow extends TriggerBase {
  type: 'kafka';
  config: KafkaSettings;
  /** When its start was recorded (created, resumed, moved to another topic); null: stored before starts were. */
  startAt: Date | null;
  /** Its start on each partition; null: not known yet (the broker could not be asked), or no start (startAt null). */
  startOffsets: StartOffsets | null;
}

export type AnyTriggerRow = TriggerRow | KafkaTriggerRow;

const COLUMNS = `id, tenant_id AS "tenantId", workflow_id AS "workflowId", type, version, config, paused, created_at AS "createdAt", updated_at AS "updatedAt", kafka_start_at AS "startAt", kafka_start AS "startOffsets"`;

/** Triggers (schedules, Kafka topics) of workflows, scoped to one tenant (the trigger service alone reads across tenants). */
export function createTriggersRepo(pool: Pool) {
  return {
    ...triggerQueries(pool),

    /**
     * Runs `fn` in one transaction on the triggers: committed when `fn` resolves, rolled back when
     * it throws (a Temporal Schedule written inside `fn` is what decides whether the row stays).
     */
    async transaction<T>(fn: (tx: TriggerQueries) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(triggerQueries(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: unknown) => (broken = e instanceof Error ? e : new Error(String(e))));
        throw err;
      } finally {
        client.release(broken);
      }
    },
  };
}

/** The queries of the triggers repo, on the pool or on one transaction's client. */
function triggerQueries(pool: Pick<PoolClient, 'query'>) {
  return {
    /** Serialises the trigger writes of one tenant until the transaction ends (the trigger count holds). */
    async lockTenant(tenantId: string): Promise<void> {
      await pool.query(`SELECT pg_advisory_xact_lock(hashtext('triggers'), hashtext($1))`, [tenantId]);
    },

    async countForTenant(tenantId: string): Promise<number> {
      const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM triggers WHERE tenant_id = $1', [
        tenantId,
      ]);
      return rows[0]?.n ?? 0;
    },

    /** The trigger, its row locked until the transaction ends; not found when it does not exist. */
    async lock(tenantId: string, id: string): Promise<AnyTriggerRow> {
      const { rows } = await pool.query<AnyTriggerRow>(
        `SELECT ${COLUMNS} FROM triggers WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
        [tenantId, id],
      );
      const row = rows[0];
      if (!row) throw notFound('trigger', id);
      return row;
    },

    /** Every schedule trigger of every tenant, with whether its workflow is archived: what the schedule reconciler makes Temporal follow. */
    async listSchedules(): Promise<(TriggerRow & { archived: boolean })[]> {
      const { rows } = await pool.query<TriggerRow & { archived: boolean }>(
        `SELECT t.id, t.tenant_id AS "tenantId", t.workflow_id AS "workflowId", t.type, t.version, t.config, t.paused,
                t.created_at AS "createdAt", t.updated_at AS "updatedAt", w.archived_at IS NOT NULL AS archived
           FROM triggers t JOIN workflows w ON w.tenant_id = t.tenant_id AND w.id = t.workflow_id
          WHERE t.type = 'schedule' ORDER BY t.created_at, t.id`,
      );
      return rows;
    },

    async create(tenantId: string, workflowId: string, config: ScheduleSettings): Promise<TriggerRow> {
      const { rows } = await pool.query<TriggerRow>(
        `INSERT INTO triggers (tenant_id, id, workflow_id, type, version, config) VALUES ($1, $2, $3, 'schedule', $4, $5) RETURNING ${COLUMNS}`,
        [tenantId, randomUUID(), workflowId, config.version ?? null, config],
      );
      const row = rows[0];
      if (!row) throw new AppError({ code: 'INTERNAL', message: 'the trigger was not stored' });
      return row;
    },

    /** Stores a Kafka trigger starting at `start` (null: at its creation time, looked up by the trigger service). */
    async createKafka(
      tenantId: string,
      workflowId: string,
      config: KafkaSettings,
      start: StartOffsets | null,
    ): Promise<KafkaTriggerRow> {
      const { rows } = await pool.query<KafkaTriggerRow>(
        `INSERT INTO triggers (tenant_id, id, workflow_id, type, version, config, kafka_start_at, kafka_start)
         VALUES ($1, $2, $3, 'kafka', $4, $5, now(), $6) RETURNING ${COLUMNS}`,
        [tenantId, randomUUID(), workflowId, config.version ?? null, config, start],
      );
      const row = rows[0];
      if (!row) throw new AppError({ code: 'INTERNAL', message: 'the trigger was not stored' });
      return row;
    },

    /** Every Kafka trigger that is not paused and whose workflow is not archived, of every tenant. */
    async listActiveKafka(): Promise<KafkaTriggerRow[]> {
      const { rows } = await pool.query<KafkaTriggerRow>(
        `SELECT t.id, t.tenant_id AS "tenantId", t.workflow_id AS "workflowId", t.type, t.version, t.config, t.paused, t.created_at AS "createdAt", t.updated_at AS "updatedAt",
                t.kafka_start_at AS "startAt", t.kafka_start AS "startOffsets"
           FROM triggers t JOIN workflows w ON w.tenant_id = t.tenant_id AND w.id = t.workflow_id
          WHERE t.type = 'kafka' AND NOT t.paused AND w.archived_at IS NULL ORDER BY t.created_at, t.id`,
      );
      return rows;
    },

    /** The trigger, or undefined when it does not exist (or is another tenant's). */
    async find(tenantId: string, id: string): Promise<AnyTriggerRow | undefined> {
      const { rows } = await pool.query<AnyTriggerRow>(
        `SELECT ${COLUMNS} FROM triggers WHERE tenant_id = $1 AND id = $2`,
        [tenantId, id],
      );
      return rows[0];
    },

    async get(tenantId: string, id: string): Promise<AnyTriggerRow> {
      const row = await this.find(tenantId, id);
      if (!row) throw notFound('trigger', id);
      return row;
    },

    async listForWorkflow(tenantId: string, workflowId: string): Promise<AnyTriggerRow[]> {
      const { rows } = await pool.query<AnyTriggerRow>(
        `SELECT ${COLUMNS} FROM triggers WHERE tenant_id = $1 AND workflow_id = $2 ORDER BY created_at, id`,
        [tenantId, workflowId],
      );
      return rows;
    },

    /** Changes a trigger; `start` (a Kafka trigger resumed or moved to another topic) records a new start, now. */
    async update(
      tenantId: string,
      id: string,
      change: { config?: ScheduleSettings | KafkaSettings; paused?: boolean; start?: { offsets: StartOffsets | null } },
    ): Promise<AnyTriggerRow> {
      const { rows } = await pool.query<AnyTriggerRow>(
        `UPDATE triggers SET config = COALESCE($3, config), version = CASE WHEN $3::jsonb IS NULL THEN version ELSE ($3::jsonb->>'version')::integer END,
           paused = COALESCE($4, paused), updated_at = now(),
           kafka_start_at = CASE WHEN $5 THEN now() ELSE kafka_start_at END,
           kafka_start = CASE WHEN $5 THEN $6::jsonb ELSE kafka_start END
          WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
        [
          tenantId,
          id,
          change.config ?? null,
          change.paused ?? null,
          change.start !== undefined,
          change.start?.offsets ?? null,
        ],
      );
      const row = rows[0];
      if (!row) throw notFound('trigger', id);
      return row;
    },

    /** Stores the offsets a start recorded without them was found at; a start recorded since (resumed, moved) is kept. */
    async resolveKafkaStart(tenantId: string, id: string, at: Date, offsets: StartOffsets): Promise<void> {
      await pool.query(
        `UPDATE triggers SET kafka_start = $4 WHERE tenant_id = $1 AND id = $2 AND date_trunc('milliseconds', kafka_start_at) = $3 AND kafka_start IS NULL`,
        [tenantId, id, at, offsets],
      );
    },

    async remove(tenantId: string, id: string): Promise<void> {
      await pool.query('DELETE FROM triggers WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
    },
  };
}

export type TriggerQueries = ReturnType<typeof triggerQueries>;
export type TriggersRepo = ReturnType<typeof createTriggersRepo>;
