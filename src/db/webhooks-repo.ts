import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { KeyRing } from '../shared/crypto.js';
import { AppError, notFound } from '../shared/errors.js';
import type { Pool } from './pool.js';

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export interface Webhook {
  id: string;
  workflowId: string;
  signed: boolean;
  createdAt: Date;
  revokedAt: Date | null;
}

/** Per-workflow webhook tokens: the token is returned once and only its hash is kept. */
export function createWebhooksRepo(pool: Pool, ring: KeyRing | undefined) {
  return {
    async create(tenantId: string, workflowId: string, signed: boolean): Promise<{ id: string; token: string; signingSecret?: string }> {
      if (signed && !ring) throw new AppError({ code: 'SECRETS_DISABLED', message: 'signed webhooks need SECRETS_KEYS', httpStatus: 503 });
      const id = randomUUID();
      const token = `whk_${randomBytes(24).toString('base64url')}`;
      const signingSecret = signed ? `whsec_${randomBytes(24).toString('base64url')}` : undefined;
      await pool.query('INSERT INTO webhooks (id, tenant_id, workflow_id, token_hash, signing_sealed) VALUES ($1, $2, $3, $4, $5)', [
        id,
        tenantId,
        workflowId,
        hash(token),
        signingSecret && ring ? ring.seal(signingSecret) : null,
      ]);
      return { id, token, ...(signingSecret ? { signingSecret } : {}) };
    },

    async list(tenantId: string, workflowId: string): Promise<Webhook[]> {
      const { rows } = await pool.query<Webhook>(
        `SELECT id, workflow_id AS "workflowId", signing_sealed IS NOT NULL AS signed, created_at AS "createdAt", revoked_at AS "revokedAt"
           FROM webhooks WHERE tenant_id = $1 AND workflow_id = $2 ORDER BY created_at`,
        [tenantId, workflowId],
      );
      return rows;
    },

    async revoke(tenantId: string, workflowId: string, id: string): Promise<void> {
      const { rowCount } = await pool.query('UPDATE webhooks SET revoked_at = COALESCE(revoked_at, now()) WHERE tenant_id = $1 AND workflow_id = $2 AND id = $3', [tenantId, workflowId, id]);
      if (!rowCount) throw notFound('webhook', id);
    },

    /** The live hook a token belongs to, with its signing secret; a revoked or unknown token is a 404. */
    async resolve(token: string): Promise<{ tenantId: string; workflowId: string; signingSecret?: string }> {
      const { rows } = await pool.query<{ tenant_id: string; workflow_id: string; signing_sealed: string | null }>(
        'SELECT tenant_id, workflow_id, signing_sealed FROM webhooks WHERE token_hash = $1 AND revoked_at IS NULL',
        [hash(token)],
      );
      const row = rows[0];
      if (!row) throw notFound('webhook', 'this token');
      const signingSecret = row.signing_sealed && ring ? ring.open(row.signing_sealed).toString('utf8') : undefined;
      return { tenantId: row.tenant_id, workflowId: row.workflow_id, ...(signingSecret ? { signingSecret } : {}) };
    },
  };
}

export type WebhooksRepo = ReturnType<typeof createWebhooksRepo>;
