import { errors, jwtVerify, SignJWT, type JWTHeaderParameters } from 'jose';
import type { KeyRing } from './crypto.js';
import { AppError } from './errors.js';

export type LinkAction = 'approve' | 'reject';

/** What a valid approval link says: whose, which approval, which way. */
export interface ApprovalLink {
  tenantId: string;
  approvalId: string;
  action: LinkAction;
}

/** A link's token is a JWS of a few claims; anything much longer is not one of ours. */
const MAX_TOKEN_LENGTH = 1000;
const ALG = 'HS256';

/** The key of a tenant's links: derived per tenant, so a link never verifies under another tenant. */
const purpose = (tenantId: string) => `approval-links:${tenantId}`;

/** Where a public URL puts a link: `/approvals/{tenant}/{token}`. */
export const approvalPath = (tenantId: string, token: string) => `/approvals/${encodeURIComponent(tenantId)}/${token}`;

/**
 * Approval links: signed (HS256, with a key derived from the SECRETS_KEYS ring, by tenant),
 * bound to one tenant, approval and action, valid until the approval's expiry. Single use is
 * not in the link: the run takes only the first decision, and the approvals table remembers it.
 * Keys rotate as the ring does: a link names its ring key (`kid`), and any key of the ring verifies.
 */
export function approvalLinks(ring: KeyRing | undefined, publicUrl: string) {
  const base = publicUrl.replace(/\/+$/, '');
  return {
    async mint(req: {
      tenantId: string;
      approvalId: string;
      expiresAt: string;
    }): Promise<{ approveUrl: string; rejectUrl: string }> {
      if (!ring)
        throw new AppError({
          code: 'APPROVALS_UNAVAILABLE',
          message: 'approval links need SECRETS_KEYS (their signing key is derived from it)',
          retryable: false,
        });
      const key = ring.derive(purpose(req.tenantId));
      if (!key) throw new Error('the current key of the ring is missing');
      const exp = Math.ceil(Date.parse(req.expiresAt) / 1000);
      const sign = (action: LinkAction) =>
        new SignJWT({ apv: req.approvalId, act: action })
          .setProtectedHeader({ alg: ALG, kid: ring.currentKeyId })
          .setAudience(req.tenantId)
          .setExpirationTime(exp)
          .sign(key);
      const [approve, reject] = await Promise.all([sign('approve'), sign('reject')]);
      return {
        approveUrl: `${base}${approvalPath(req.tenantId, approve)}`,
        rejectUrl: `${base}${approvalPath(req.tenantId, reject)}`,
      };
    },

    /** The link a token is, or undefined when it is tampered with, another tenant's, expired or not a link. */
    async verify(tenantId: string, token: string): Promise<ApprovalLink | undefined> {
      if (!ring || token.length > MAX_TOKEN_LENGTH || tenantId.length > 200) return undefined;
      try {
        const { payload } = await jwtVerify(
          token,
          (header: JWTHeaderParameters) => {
            const key = typeof header.kid === 'string' ? ring.derive(purpose(tenantId), header.kid) : undefined;
            if (!key) throw new errors.JWSSignatureVerificationFailed();
            return key;
          },
          { algorithms: [ALG], audience: tenantId, requiredClaims: ['exp'] },
        );
        const { apv, act } = payload;
        if (typeof apv !== 'string' || (act !== 'approve' && act !== 'reject')) return undefined;
        return { tenantId, approvalId: apv, action: act };
      } catch {
        return undefined;
      }
    },
  };
}

export type ApprovalLinks = ReturnType<typeof approvalLinks>;
