import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { KeyRing } from '../shared/crypto.js';
import { AppError, notFound } from '../shared/errors.js';
import type { Pool } from './pool.js';

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** How a webhook answers: at once (202), or with the run's result or a respond step's answer (see migration 018). */
export type WebhookRespond = 'immediately' | 'onCompletion';

export interface Webhook {
  id: string;
  workflowId: string;
  signed: boolean;
  respond: WebhookRespond;
  createdAt: Date;
  revokedAt: Date | null;
}

/** Per-workflow webhook tokens: the token is returned once and only its hash is kept. */
export function createWebhooksRepo(pool: Pool, ring: KeyRing | undefined) {
  return {
    async create(
      tenantId: string,
      workflowId: string,
      signed: boolean,
      respond: WebhookRespond = 'immediately',
    ): Promise<{ id: string; token: string; signingSecret?: string }> {
      if (signed && !ring)
        throw new AppError({ code: 'SECRETS_DISABLED', message: 'signed webhooks need SECRETS_KEYS', httpStatus: 503 });
      const id = randomUUID();
      const token = `whk_${randomBytes(24).toString('base64url')}`;
      const signingSecret = signed ? `whsec_${randomBytes(24).toString('base64url')}` : undefined;
      await pool.query(
        'INSERT INTO webhooks (id, tenant_id, workflow_id, token_hash, signing_sealed, respond) VALUES ($1, $2, $3, $4, $5, $6)',
        [id, tenantId, workflowId, hash(token), signingSecret && ring ? ring.seal(signingSecret) : null, respond],
      );
      return { id, token, ...(signingSecret ? { signingSecret } : {}) };
    },

    async list(tenantId: string, workflowId: string): Promise<Webhook[]> {
      const { rows } = await pool.query<Webhook>(
        `SELECT id, workflow_id AS "workflowId", signing_sealed IS NOT NULL AS signed, respond, created_at AS "createdAt", revoked_at AS "revokedAt"
           FROM webhooks WHERE tenant_id = $1 AND workflow_id = $2 ORDER BY created_at`,
        [tenantId, workflowId],
      );
      return rows;
    },

    async revoke(tenantId: string, workflowId: string, id: string): Promise<void> {
      const { rowCount } = await pool.query(
        'UPDATE webhooks SET revoked_at = COALESCE(revoked_at, now()) WHERE tenant_id = $1 AND workflow_id = $2 AND id = $3',
        [tenantId, workflowId, id],
      );
      if (!rowCount) throw notFound('webhook', id);
    },

    /**
     * The live hook a token belongs to, with its signing secret; a revoked or unknown token is a
     * 404. A signed hook whose secret cannot be unsealed (no key, or not this key) is a 503: its
     * signature cannot be checked, and an unchecked signed hook would take anyone's body.
     */
    async resolve(token: string): Promise<{
      id: string;
      tenantId: string;
      workflowId: string;
      respond: WebhookRespond;
      signingSecret?: string;
    }> {
      const { rows } = await pool.query<{
        id: string;
        tenant_id: string;
        workflow_id: string;
        signing_sealed: string | null;
        respond: WebhookRespond;
      }>(
        'SELECT id, tenant_id, workflow_id, signing_sealed, respond FROM webhooks WHERE token_hash = $1 AND revoked_at IS NULL',
        [hash(token)],
      );
      const row = rows[0];
      if (!row) throw notFound('webhook', 'this token');
      const hook = { id: row.id, tenantId: row.tenant_id, workflowId: row.workflow_id, respond: row.respond };
      if (row.signing_sealed === null) return hook;
      return { ...hook, signingSecret: unseal(ring, row.signing_sealed) };
    },

    /**
     * Records a signed delivery until `expiresAt` and answers the idempotency key it was first
     * seen with: the caller refuses a replay that comes with another key. In PostgreSQL, so every
     * API replica sees it; each call also clears a few expired rows, so the table stays small.
     */
    async claimDelivery(hookId: string, signature: string, idempotencyKey: string, expiresAt: Date): Promise<string> {
      await pool.query(
        `DELETE FROM webhook_deliveries WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM webhook_deliveries WHERE expires_at < now() LIMIT 100 FOR UPDATE SKIP LOCKED))`,
      );
      const { rows } = await pool.query<{ idempotency_key: string }>(
        `INSERT INTO webhook_deliveries (hook_id, signature, idempotency_key, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (hook_id, signature) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key, expires_at = EXCLUDED.expires_at
           WHERE webhook_deliveries.expires_at < now()
         RETURNING idempotency_key`,
        [hookId, signature, idempotencyKey, expiresAt],
      );
      if (rows[0]) return rows[0].idempotency_key;
      // A fresh statement: it sees the row a concurrent claim has just committed.
      const seen = await pool.query<{ idempotency_key: string }>(
        'SELECT idempotency_key FROM webhook_deliveries WHERE hook_id = $1 AND signature = $2',
        [hookId, signature],
      );
      return seen.rows[0]?.idempotency_key ?? idempotencyKey;
    },
  };
}

export type WebhooksRepo = ReturnType<typeof createWebhooksRepo>;

function unseal(ring: KeyRing | undefined, sealed: string): string {
  const unavailable = (cause?: unknown) =>
    new AppError({
      code: 'SIGNING_SECRET_UNAVAILABLE',
      message: "this webhook's signing secret cannot be unsealed, so its signature cannot be checked",
      httpStatus: 503,
      retryable: true,
      cause,
    });
  if (!ring) throw unavailable();
  try {
    return ring.open(sealed).toString('utf8');
  } catch (err) {
    throw unavailable(err);
  }
}
