import { randomUUID } from 'node:crypto';
import type { Definition, FailureTarget } from '../definitions/schema.js';
import { AppError, notFound } from '../shared/errors.js';
import { decodeCursor, page } from './cursor.js';
import type { Pool, PoolClient } from './pool.js';
import { changeKey, WORKFLOW_CHANGED, type LatestVersion, type LatestVersions } from './workflow-changes.js';

export interface WorkflowSummary {
  id: string;
  /** The stable name `mz apply` files give the workflow; null for one made otherwise. */
  key: string | null;
  name: string;
  latestVersion: number;
  createdAt: Date;
  updatedAt: Date;
  archivedAt: Date | null;
}

export interface WorkflowVersion {
  id: string;
  key: string | null;
  version: number;
  name: string;
  definition: Definition;
  createdAt: Date;
  archivedAt: Date | null;
}

interface SummaryRow {
  id: string;
  key: string | null;
  name: string;
  latest_version: number;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

const toSummary = (r: SummaryRow): WorkflowSummary => ({
  id: r.id,
  key: r.key,
  name: r.name,
  latestVersion: r.latest_version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  archivedAt: r.archived_at,
});

/**
 * Workflow definitions and their immutable versions, always scoped to one tenant. With `latest`
 * (the API's), triggers find the latest version in memory; every change notifies it.
 */
export function createWorkflowsRepo(pool: Pool, latest?: LatestVersions) {
  async function inTransaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  return {
    /** A new workflow at version 1; with `key`, refused (WORKFLOW_KEY_TAKEN) while a live workflow holds it. */
    async create(tenantId: string, definition: Definition, key?: string): Promise<{ id: string; version: number }> {
      const id = randomUUID();
      await inTransaction(async (client) => {
        const inserted = await client.query(
          `INSERT INTO workflows (tenant_id, id, name, latest_version, key) VALUES ($1, $2, $3, 1, $4)
           ON CONFLICT (tenant_id, key) WHERE key IS NOT NULL AND archived_at IS NULL DO NOTHING`,
          [tenantId, id, definition.name, key ?? null],
        );
        if (!inserted.rowCount) throw keyTaken(key ?? '');
        await client.query(
          'INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, 1, $3)',
          [tenantId, id, definition],
        );
      });
      return { id, version: 1 };
    },

    async addVersion(tenantId: string, id: string, definition: Definition): Promise<{ id: string; version: number }> {
      return inTransaction(async (client) => {
        const { rows } = await client.query<{ latest_version: number; archived_at: Date | null }>(
          'SELECT latest_version, archived_at FROM workflows WHERE tenant_id = $1 AND id = $2 FOR UPDATE',
          [tenantId, id],
        );
        const row = rows[0];
        if (!row) throw notFound('workflow', id);
        if (row.archived_at) throw archived(id);
        const version = row.latest_version + 1;
        await client.query(
          'UPDATE workflows SET latest_version = $3, name = $4, updated_at = now() WHERE tenant_id = $1 AND id = $2',
          [tenantId, id, version, definition.name],
        );
        await client.query(
          'INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition) VALUES ($1, $2, $3, $4)',
          [tenantId, id, version, definition],
        );
        await client.query('SELECT pg_notify($1, $2)', [WORKFLOW_CHANGED, changeKey(tenantId, id)]);
        return { id, version };
      }).finally(() => latest?.forget(changeKey(tenantId, id)));
    },

    async list(
      tenantId: string,
      opts: { cursor?: string; limit: number; key?: string },
    ): Promise<{ items: WorkflowSummary[]; nextCursor: string | null }> {
      const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
      const { rows } = await pool.query<SummaryRow>(
        `SELECT id, key, name, latest_version, created_at, updated_at, archived_at FROM workflows
          WHERE tenant_id = $1 AND archived_at IS NULL AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
            AND ($5::text IS NULL OR key = $5)
          ORDER BY created_at DESC, id DESC LIMIT $4`,
        [tenantId, after?.at ?? null, after?.id ?? '', opts.limit + 1, opts.key ?? null],
      );
      const result = page(rows, opts.limit, (r) => ({ at: r.created_at, id: r.id }));
      return { items: result.items.map(toSummary), nextCursor: result.nextCursor };
    },

    /** One version of a workflow; the latest when `version` is omitted. */
    async get(tenantId: string, id: string, version?: number): Promise<WorkflowVersion> {
      const { rows } = await pool.query<{
        key: string | null;
        name: string;
        version: number;
        definition: Definition;
        created_at: Date;
        archived_at: Date | null;
      }>(
        `SELECT w.key, v.definition->>'name' AS name, v.version, v.definition, v.created_at, w.archived_at
           FROM workflows w JOIN workflow_versions v ON v.tenant_id = w.tenant_id AND v.workflow_id = w.id
          WHERE w.tenant_id = $1 AND w.id = $2 AND v.version = COALESCE($3, w.latest_version)`,
        [tenantId, id, version ?? null],
      );
      const row = rows[0];
      if (!row)
        throw version === undefined ? notFound('workflow', id) : notFound('workflow version', `${id}@${version}`);
      return {
        id,
        key: row.key,
        version: row.version,
        name: row.name,
        definition: row.definition,
        createdAt: row.created_at,
        archivedAt: row.archived_at,
      };
    },

    /**
     * A version as a run starts it (the latest when `version` is omitted), with the tenant's
     * default failure workflow, in one read.
     */
    async forRun(tenantId: string, id: string, version?: number): Promise<LatestVersion> {
      const { rows } = await pool.query<{
        version: number;
        definition: Definition;
        archived_at: Date | null;
        on_failure: FailureTarget | null;
      }>(
        `SELECT v.version, v.definition, w.archived_at,
                (SELECT s.on_failure FROM tenant_settings s WHERE s.tenant_id = w.tenant_id) AS on_failure
           FROM workflows w JOIN workflow_versions v ON v.tenant_id = w.tenant_id AND v.workflow_id = w.id
          WHERE w.tenant_id = $1 AND w.id = $2 AND v.version = COALESCE($3, w.latest_version)`,
        [tenantId, id, version ?? null],
      );
      const row = rows[0];
      if (!row)
        throw version === undefined ? notFound('workflow', id) : notFound('workflow version', `${id}@${version}`);
      return {
        id,
        version: row.version,
        definition: row.definition,
        archivedAt: row.archived_at,
        tenantOnFailure: row.on_failure,
      };
    },

    /** The latest version, as a trigger starts it: from memory when the API keeps it, else one read. */
    async forTrigger(tenantId: string, id: string): Promise<LatestVersion> {
      const key = changeKey(tenantId, id);
      const cached = latest?.get(key);
      if (cached) return cached;
      const readAt = latest?.generation() ?? 0;
      const found = await this.forRun(tenantId, id);
      latest?.set(key, found, readAt);
      return found;
    },

    async archive(tenantId: string, id: string): Promise<void> {
      const { rowCount } = await pool
        .query(
          `WITH archived AS (UPDATE workflows SET archived_at = COALESCE(archived_at, now()), updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING id)
           SELECT pg_notify($3, $4) FROM archived`,
          [tenantId, id, WORKFLOW_CHANGED, changeKey(tenantId, id)],
        )
        .finally(() => latest?.forget(changeKey(tenantId, id)));
      if (!rowCount) throw notFound('workflow', id);
    },
  };
}

export type WorkflowsRepo = ReturnType<typeof createWorkflowsRepo>;

export const keyTaken = (key: string) =>
  new AppError({
    code: 'WORKFLOW_KEY_TAKEN',
    message: `a workflow with key '${key}' exists; change that one (PUT /v1/workflows/{id}) or archive it first`,
    httpStatus: 409,
    details: { key },
  });

export const archived = (id: string) =>
  new AppError({
    code: 'WORKFLOW_ARCHIVED',
    message: `workflow '${id}' is archived and takes no new versions or runs`,
    httpStatus: 409,
  });
