import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { KeyRing } from '../shared/crypto.js';

const { Payload: PayloadProto } = proto.temporal.api.common.v1;
const ENCODING = 'binary/encrypted';
const utf8 = new TextEncoder();
const text = new TextDecoder();

/**
 * Encrypts every payload Temporal stores — run inputs, step results, signals, outputs — with
 * AES-256-GCM from the key ring, so history holds only ciphertext. Used by the API's client and
 * the worker; the API's `/codec` endpoints let the Temporal Web UI decode for authorised operators.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly ring: KeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => ({
      metadata: { encoding: utf8.encode(ENCODING), 'encryption-key-id': utf8.encode(this.ring.currentKeyId) },
      data: utf8.encode(this.ring.seal(Buffer.from(PayloadProto.encode(p).finish()))),
    }));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const encoding = p.metadata?.encoding;
      if (!encoding || text.decode(encoding) !== ENCODING || !p.data) return p;
      return PayloadProto.decode(this.ring.open(text.decode(p.data)));
    });
  }
}
