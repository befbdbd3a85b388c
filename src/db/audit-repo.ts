import { batched } from './batched.js';
import { decodeCursor, page } from './cursor.js';
import type { Pool } from './pool.js';

/** One audited call: who did what to which target, and how it ended; body field names, never values. */
export interface AuditEvent {
  at: Date;
  tenantId: string;
  subject: string;
  method: string;
  /** The route's pattern (`/v1/workflows/:id`), not the path. */
  route: string;
  targetId: string | null;
  status: number;
  requestId: string;
  fields: string[];
}

export interface AuditRow extends AuditEvent {
  id: string;
}

export interface AuditFilter {
  since?: Date | undefined;
  until?: Date | undefined;
  subject?: string | undefined;
  targetId?: string | undefined;
}

const COLUMNS = `id::text AS id, at, tenant_id AS "tenantId", subject, method, route, target_id AS "targetId", status,
  request_id AS "requestId", fields`;

/** Audit events per tenant; writes of concurrent requests share one statement (group commit). */
export function createAuditRepo(pool: Pool) {
  const insert = async (events: AuditEvent[]) => {
    const cols = (pick: (e: AuditEvent) => unknown) => events.map(pick);
    await pool.query(
      `INSERT INTO audit_events (at, tenant_id, subject, method, route, target_id, status, request_id, fields)
       SELECT at, tenant_id, subject, method, route, target_id, status, request_id, ARRAY(SELECT jsonb_array_elements_text(fields))
         FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::jsonb[])
           AS e(at, tenant_id, subject, method, route, target_id, status, request_id, fields)`,
      [
        cols((e) => e.at),
        cols((e) => e.tenantId),
        cols((e) => e.subject),
        cols((e) => e.method),
        cols((e) => e.route),
        cols((e) => e.targetId),
        cols((e) => e.status),
        cols((e) => e.requestId),
        cols((e) => JSON.stringify(e.fields)),
      ],
    );
  };
  return {
    /** Settles once the event is stored; many callers at once go in one INSERT. */
    record: batched(insert, 200),

    async list(
      tenantId: string,
      filter: AuditFilter,
      opts: { cursor?: string | undefined; limit: number },
    ): Promise<{ items: AuditRow[]; nextCursor: string | null }> {
      const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
      const afterId = after && /^\d{1,19}$/.test(after.id) ? after.id : '0';
      const { rows } = await pool.query<AuditRow>(
        `SELECT ${COLUMNS} FROM audit_events
          WHERE tenant_id = $1
            AND ($2::timestamptz IS NULL OR at >= $2)
            AND ($3::timestamptz IS NULL OR at < $3)
            AND ($4::text IS NULL OR subject = $4)
            AND ($5::text IS NULL OR target_id = $5)
            AND ($6::timestamptz IS NULL OR (at, id) < ($6, $7::bigint))
          ORDER BY at DESC, id DESC LIMIT $8`,
        [
          tenantId,
          filter.since ?? null,
          filter.until ?? null,
          filter.subject ?? null,
          filter.targetId ?? null,
          after?.at ?? null,
          afterId,
          opts.limit + 1,
        ],
      );
      return page(rows, opts.limit, (r) => ({ at: r.at, id: r.id }));
    },
  };
}

export type AuditRepo = ReturnType<typeof createAuditRepo>;
