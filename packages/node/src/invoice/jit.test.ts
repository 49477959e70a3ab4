// LSPS2 (bLIP 52) invoice generation: what createJitInvoice writes decodes to the hint and fields the
// LSP and the payer rely on.

import { decodeBolt11 } from '@lpw/payment-request';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { isNodeError } from '../errors.ts';
import { assertJitDescription, createJitInvoice, type JitInvoiceParams } from './jit.ts';

const clientKey = hexToBytes('07'.repeat(32));
const clientNodeId = bytesToHex(secp256k1.getPublicKey(clientKey, true));
const lspNodeId = bytesToHex(secp256k1.getPublicKey(hexToBytes('08'.repeat(32)), true));
const interceptScid = (800_000n << 40n) | (1_234n << 16n) | 7n;

const params: JitInvoiceParams = {
  amountMsat: 50_000_000n,
  description: 'JIT coffee',
  expirySecs: 3600,
  paymentHash: '5a'.repeat(32),
  paymentSecret: '5b'.repeat(32),
  minFinalCltvExpiryDelta: 144,
  payeeNodeId: clientNodeId,
  lspNodeId,
  interceptScid,
  lspCltvExpiryDelta: 72,
  network: 'regtest',
  sign: clientKey,
  nowSec: 1_700_000_000,
};

describe('createJitInvoice (LSPS2 invoice generation)', () => {
  it('routes over one hop from the LSP via the intercept SCID, fee-free', () => {
    const invoice = decodeBolt11(createJitInvoice(params));
    expect(invoice.routeHints).toEqual([
      [
        {
          pubkey: lspNodeId,
          shortChannelId: interceptScid,
          feeBaseMsat: 0n,
          feeProportionalMillionths: 0,
          cltvExpiryDelta: 72,
        },
      ],
    ]);
    expect(invoice.payeeNodeId).toBe(clientNodeId);
    expect(invoice.taggedFields.some((field) => field.tag === 'n')).toBe(true);
    expect(invoice.network).toBe('regtest');
    expect(invoice.paymentHash).toBe('5a'.repeat(32));
    expect(invoice.paymentSecret).toBe('5b'.repeat(32));
    expect(invoice.description).toBe('JIT coffee');
    expect(invoice.timestamp).toBe(1_700_000_000);
    expect(invoice.expiresAt).toBe(1_700_003_600);
  });

  it('fixed amount: carries it and offers basic_mpp ("MPP+fixed-invoice")', () => {
    const invoice = decodeBolt11(createJitInvoice(params));
    expect(invoice.amountMsat).toBe(50_000_000n);
    expect(invoice.features).toEqual([8, 14, 17]);
  });

  it('commits to a description hash instead when given one (LNURL-pay metadata, LUD-06)', () => {
    const invoice = decodeBolt11(createJitInvoice({ ...params, descriptionHash: 'cd'.repeat(32) }));
    expect(invoice.descriptionHash).toBe('cd'.repeat(32));
    expect(invoice.description).toBeUndefined();
    expect(invoice.taggedFields.some((field) => field.tag === 'd')).toBe(false);
  });

  it('no amount: no basic_mpp ("no-MPP+var-invoice")', () => {
    const invoice = decodeBolt11(createJitInvoice({ ...params, amountMsat: undefined }));
    expect(invoice.amountMsat).toBeUndefined();
    expect(invoice.features).toEqual([8, 14]);
  });

  it('states min_final_cltv_expiry_delta 2 above the enforced one, plus confirmations waited for', () => {
    expect(decodeBolt11(createJitInvoice(params)).minFinalCltvExpiryDelta).toBe(146);
    expect(
      decodeBolt11(createJitInvoice({ ...params, confirmationsBeforeClaim: 1 })).minFinalCltvExpiryDelta,
    ).toBe(147);
  });

  it('uses an injected signer (the node key stays in the keystore)', () => {
    const hashes: Uint8Array[] = [];
    const text = createJitInvoice({
      ...params,
      sign: (hash32) => {
        hashes.push(hash32);
        const signature = secp256k1.Signature.fromBytes(
          secp256k1.sign(hash32, clientKey, { prehash: false, format: 'recovered' }),
          'recovered',
        );
        return { signature64: signature.toBytes('compact'), recovery: signature.recovery! };
      },
    });
    expect(hashes).toHaveLength(1);
    expect(decodeBolt11(text).payeeNodeId).toBe(clientNodeId);
  });

  it('refuses to outlive the opening fee offer', () => {
    expect(() => createJitInvoice({ ...params, validUntilSec: 1_700_003_599 })).toThrow(/opening fee offer/);
    expect(() => createJitInvoice({ ...params, validUntilSec: 1_700_003_600 })).not.toThrow();
  });

  it('takes a description up to 639 bytes (one field); refuses a longer one before anything is bought', () => {
    const longest = '€'.repeat(213); // 3 bytes each
    const text = createJitInvoice({ ...params, description: longest });
    expect(text.length).toBeGreaterThan(1_023); // more than LDK 0.1 parses, fine for our decoder
    expect(decodeBolt11(text).description).toBe(longest);
    for (const description of [`${longest}x`, 'x'.repeat(640)]) {
      expect(() => assertJitDescription(description)).toThrow(/INVALID_INPUT: "description" is 640 bytes/);
      expect(() => createJitInvoice({ ...params, description })).toThrow(/INVALID_INPUT/);
    }
  });

  it('reports bad input as INVOICE_CREATION_FAILED, naming it', () => {
    const wrongSigner = hexToBytes('09'.repeat(32));
    for (const bad of [{ paymentHash: 'abc' }, { interceptScid: -1n }, { sign: wrongSigner }]) {
      try {
        createJitInvoice({ ...params, ...bad });
        expect.unreachable();
      } catch (error) {
        expect(isNodeError(error, 'INVOICE_CREATION_FAILED')).toBe(true);
      }
    }
  });
});
