import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../shared/errors.js';

/** How far a signature's timestamp may be from now: older bodies are replays. */
export const SIGNATURE_TOLERANCE_S = 300;

/**
 * The `X-Signature` header a caller of a signed hook sends.
 * @example sign('whsec_…', '{"order":1}') // 't=1767225600,v1=5f0c…'
 */
export function sign(secret: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/**
 * Checks `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` and
 * answers the signature in canonical form (lower-case hex, as computed here, so re-casing a
 * captured one does not make it new) and when it stops being fresh.
 */
export function verifySignature(
  secret: string,
  body: string,
  header: string | undefined,
): { signature: string; freshUntil: Date } {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.trim().split('=', 2)));
  const t = Number(parts.t);
  const given = Buffer.from(String(parts.v1 ?? ''), 'hex');
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest();
  const fresh = Number.isFinite(t) && Math.abs(Date.now() / 1000 - t) <= SIGNATURE_TOLERANCE_S;
  if (!fresh || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AppError({
      code: 'INVALID_SIGNATURE',
      message: 'X-Signature is missing, stale or wrong',
      httpStatus: 401,
    });
  }
  return { signature: expected.toString('hex'), freshUntil: new Date((t + SIGNATURE_TOLERANCE_S) * 1000) };
}
