import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import type { ClaimsRepo } from '../db/claims-repo.js';
import { ClaimCheckCodec } from '../temporal/claim-check.js';
import { EncryptionCodec } from '../temporal/codec.js';
import type { KeyRing } from '../shared/crypto.js';
import { AppError } from '../shared/errors.js';
import type { ApiEnv } from './env.js';
import { requireScopes } from './middleware/scopes.js';

/** The JSON the Temporal Web UI and CLI send to a codec server: payloads with base64 fields. */
const PayloadsSchema = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), z.string()).optional(), data: z.string().optional() }))
    .max(1000),
});

/**
 * `POST /codec/encode` and `/codec/decode`: the codec server the Temporal Web UI uses to show
 * payloads to operators (the `operator` scope, which no tenant's `admin` implies: the codec gets
 * no tenant, so whoever may call it reads every tenant's payloads), with CORS for the UI's origin.
 * Decoding resolves claim-checked payloads (large values kept in PostgreSQL) and, with payload
 * encryption on, decrypts with the payload keys alone; encoding encrypts, or answers 404 when
 * encryption is off.
 */
export function codecRoutes(codecs: { ring?: KeyRing; claims: Pick<ClaimsRepo, 'get' | 'put'> }, uiOrigin: string) {
  const encryption = codecs.ring ? new EncryptionCodec(codecs.ring) : undefined;
  // Only references are resolved here: nothing the UI sends is stored.
  const claims = new ClaimCheckCodec(codecs.claims, { thresholdBytes: Number.POSITIVE_INFINITY, cacheBytes: 0 });
  const codec = {
    encode: async (payloads: Payload[]) => {
      if (!encryption)
        throw new AppError({
          code: 'ROUTE_NOT_FOUND',
          message: 'payload encryption is off: there is nothing to encode',
          httpStatus: 404,
        });
      return encryption.encode(payloads);
    },
    decode: async (payloads: Payload[]) => {
      const resolved = await claims.decode(payloads);
      return encryption ? encryption.decode(resolved) : resolved;
    },
  };
  const app = new Hono<ApiEnv>();
  app.use(
    '*',
    cors({
      origin: uiOrigin,
      allowHeaders: ['content-type', 'x-namespace', 'authorization'],
      allowMethods: ['POST', 'OPTIONS'],
      credentials: true,
    }),
  );
  for (const action of ['encode', 'decode'] as const) {
    app.post(`/${action}`, requireScopes('operator'), async (c) => {
      const parsed = PayloadsSchema.safeParse(await c.req.json().catch(() => undefined));
      if (!parsed.success)
        throw new AppError({
          code: 'INVALID_REQUEST',
          message: 'expected { payloads: [{ metadata, data }] } with base64 values',
          httpStatus: 400,
        });
      const payloads = await codec[action](parsed.data.payloads.map(fromJson)).catch((cause: unknown) => {
        if (cause instanceof AppError && cause.code === 'ROUTE_NOT_FOUND') throw cause;
        // Whatever a caller sends must not look like a server fault: it is their ciphertext that is bad.
        throw new AppError({
          code: 'INVALID_CIPHERTEXT',
          message: 'a payload could not be decrypted with the payload keys',
          httpStatus: 400,
          cause,
        });
      });
      return c.json({ payloads: payloads.map(toJson) });
    });
  }
  return app;
}

const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');

function fromJson(p: { metadata?: Record<string, string>; data?: string }): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  };
}

function toJson(p: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
    data: b64(p.data),
  };
}
