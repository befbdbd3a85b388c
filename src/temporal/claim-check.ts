import { createHash } from 'node:crypto';
import type { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { ClaimsRepo } from '../db/claims-repo.js';
import { ByteLru } from '../shared/byte-lru.js';

const { Payload: PayloadProto } = proto.temporal.api.common.v1;
export const CLAIM_ENCODING = 'binary/claim-check';
const utf8 = new TextEncoder();
const text = new TextDecoder();

/**
 * Keeps large payloads out of Temporal history (the claim-check pattern). A payload above the
 * threshold — a step's output, a trigger or event payload, a child's input, the state carried
 * over continue-as-new, a run's result — is stored in PostgreSQL under its run and its SHA-256,
 * and history carries only `<run id>/<sha256>`. Workers, the API and the Web UI's codec endpoint
 * resolve references transparently. Encryption (when on) runs first, so stored bytes are sealed.
 *
 * A payload is stored before its reference can reach Temporal: a worker that dies in between
 * leaves an unreferenced row, never a reference without its bytes.
 */
export class ClaimCheckCodec implements PayloadCodec {
  private readonly cache: ByteLru<Uint8Array>;

  constructor(
    private readonly store: Pick<ClaimsRepo, 'put' | 'get'>,
    private readonly opts: { thresholdBytes: number; cacheBytes: number },
  ) {
    this.cache = new ByteLru(opts.cacheBytes);
  }

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    // Nearly every payload is small: those pass without a promise each.
    if (payloads.every((p) => (p.data?.byteLength ?? 0) < this.opts.thresholdBytes)) return payloads;
    return Promise.all(
      payloads.map(async (payload) => {
        if ((payload.data?.byteLength ?? 0) < this.opts.thresholdBytes) return payload;
        const bytes = PayloadProto.encode(payload).finish();
        const reference = `${runOf(context)}/${createHash('sha256').update(bytes).digest('hex')}`;
        if (!this.cache.has(reference)) await this.store.put(...parse(reference), bytes);
        this.cache.set(reference, bytes, bytes.byteLength);
        return {
          metadata: { encoding: utf8.encode(CLAIM_ENCODING), 'claim-bytes': utf8.encode(String(bytes.byteLength)) },
          data: utf8.encode(reference),
        };
      }),
    );
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    if (!payloads.some(isClaim)) return payloads;
    return Promise.all(
      payloads.map(async (payload) => {
        if (!isClaim(payload) || !payload.data) return payload;
        const reference = text.decode(payload.data);
        const bytes = this.cache.get(reference) ?? (await this.store.get(...parse(reference)));
        if (!bytes) throw new Error(`the claim-checked payload ${reference} is missing from PostgreSQL`);
        this.cache.set(reference, bytes, bytes.byteLength);
        return PayloadProto.decode(bytes);
      }),
    );
  }
}

const CLAIM_BYTES = utf8.encode(CLAIM_ENCODING);
/** Whether a payload is a reference, compared as bytes (no decoding per payload). */
function isClaim(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return (
    encoding !== undefined &&
    encoding !== null &&
    encoding.length === CLAIM_BYTES.length &&
    encoding.every((b, i) => b === CLAIM_BYTES[i])
  );
}

/** The run a payload belongs to: children and foreach batches (`<run id>:<step>…`) belong to their run. */
const runOf = (context: SerializationContext | undefined): string => context?.workflowId?.split(':')[0] ?? '';

function parse(reference: string): [runId: string, sha256: string] {
  const slash = reference.lastIndexOf('/');
  return [reference.slice(0, slash), reference.slice(slash + 1)];
}
