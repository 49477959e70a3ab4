// LSPS2 (bLIP 52) just-in-time channels: opening_fee_params with the LSP's promise, the fee formula,
// and the get_info / buy shapes. Field names and semantics are the spec's.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import * as z from 'zod/mini';
import { msatInput, msatString, msatToWire, scidString, U64_MAX, u32 } from './amounts.ts';
import { ApiError } from './errors.ts';
import { checked } from './schema.ts';

/** bLIP 52 datetime: ISO 8601 UTC, "YYYY-MM-DDThh:mm:ss.uuuZ" (milliseconds optional on input). */
export const isoDatetime = checked(
  z.string(),
  z.regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/,
    'expected ISO 8601 UTC (YYYY-MM-DDThh:mm:ss.sssZ)',
  ),
  z.refine((s) => !Number.isNaN(Date.parse(s)), 'not a real date'),
);

const feeParamsShape = {
  proportional: u32,
  valid_until: isoDatetime,
  min_lifetime: u32,
  max_client_to_self_delay: u32,
  promise: checked(z.string(), z.minLength(1), z.maxLength(512)),
};

/** `opening_fee_params` as it travels (msat as decimal strings). */
export const openingFeeParamsWire = z.object({
  min_fee_msat: msatString,
  ...feeParamsShape,
  min_payment_size_msat: msatString,
  max_payment_size_msat: msatString,
});
export type OpeningFeeParamsWire = z.infer<typeof openingFeeParamsWire>;

/** `opening_fee_params` as a handler sees it after the boundary: msat as bigint. */
export const openingFeeParamsInput = z.object({
  min_fee_msat: msatInput,
  ...feeParamsShape,
  min_payment_size_msat: msatInput,
  max_payment_size_msat: msatInput,
});
export type OpeningFeeParams = z.output<typeof openingFeeParamsInput>;
export type UnsignedFeeParams = Omit<OpeningFeeParams, 'promise'>;

export function feeParamsToWire(p: OpeningFeeParams): OpeningFeeParamsWire {
  return {
    min_fee_msat: msatToWire(p.min_fee_msat),
    proportional: p.proportional,
    valid_until: p.valid_until,
    min_lifetime: p.min_lifetime,
    max_client_to_self_delay: p.max_client_to_self_delay,
    min_payment_size_msat: msatToWire(p.min_payment_size_msat),
    max_payment_size_msat: msatToWire(p.max_payment_size_msat),
    promise: p.promise,
  };
}

/**
 * bLIP 52 fee: max(min_fee_msat, ceil(payment_size_msat × proportional / 1,000,000)).
 * The multiplication and the rounding addition must both stay within u64; if not, the payment is
 * too large to price (LSPS2 error 203) and we abort rather than wrap.
 * @example openingFeeMsat(1_000_000_000n, { min_fee_msat: 2_000_000n, proportional: 1_000 }) // 2_000_000n
 */
export function openingFeeMsat(
  paymentSizeMsat: bigint,
  params: Pick<OpeningFeeParams, 'min_fee_msat' | 'proportional'>,
): bigint {
  if (typeof paymentSizeMsat !== 'bigint' || paymentSizeMsat < 0n || paymentSizeMsat > U64_MAX) {
    throw new ApiError('INVALID_INPUT', `"paymentSizeMsat" expected a u64 bigint, got ${paymentSizeMsat}`);
  }
  const product = paymentSizeMsat * BigInt(params.proportional);
  if (product > U64_MAX) throw new ApiError('FEE_OVERFLOW', 'payment_size_msat × proportional exceeds u64');
  const rounded = product + 999_999n;
  if (rounded > U64_MAX) throw new ApiError('FEE_OVERFLOW', 'rounding exceeds u64');
  const proportionalMsat = rounded / 1_000_000n;
  return proportionalMsat > params.min_fee_msat ? proportionalMsat : params.min_fee_msat;
}

/**
 * The bytes the promise covers: a fixed field order, one `name=value` per line, msat as canonical
 * decimals, under a version tag so the form can change without old promises verifying under it.
 */
export function canonicalFeeParams(p: UnsignedFeeParams): Uint8Array {
  const lines = [
    'lsps2-opening-fee-params-v1',
    `min_fee_msat=${msatToWire(p.min_fee_msat)}`,
    `proportional=${p.proportional}`,
    `valid_until=${p.valid_until}`,
    `min_lifetime=${p.min_lifetime}`,
    `max_client_to_self_delay=${p.max_client_to_self_delay}`,
    `min_payment_size_msat=${msatToWire(p.min_payment_size_msat)}`,
    `max_payment_size_msat=${msatToWire(p.max_payment_size_msat)}`,
  ];
  return utf8ToBytes(lines.join('\n'));
}

/** The LSP's promise: HMAC-SHA256 under its secret over the canonical form, lowercase hex. */
export function createPromise(params: UnsignedFeeParams, secret: Uint8Array): string {
  if (!(secret instanceof Uint8Array) || secret.length < 16) {
    throw new ApiError('INVALID_INPUT', '"secret" expected at least 16 bytes');
  }
  return bytesToHex(hmac(sha256, secret, canonicalFeeParams(params)));
}

/** Constant-time check that `params.promise` is ours for exactly these fields. */
export function verifyPromise(params: OpeningFeeParams, secret: Uint8Array): boolean {
  if (!/^[0-9a-f]{64}$/.test(params.promise)) return false;
  const expected = hexToBytes(createPromise(params, secret));
  const given = hexToBytes(params.promise);
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected[i]! ^ given[i]!;
  return diff === 0;
}

/**
 * What `lsps2.buy` checks before it commits to a channel: our promise, not expired, the payment
 * size (when given) inside the bounds and larger than the fee. Throws the bLIP 52 error.
 */
export function checkBuy(
  params: OpeningFeeParams,
  paymentSizeMsat: bigint | undefined,
  secret: Uint8Array,
  nowMs: number,
): { openingFeeMsat: bigint | undefined } {
  if (!verifyPromise(params, secret)) {
    throw new ApiError('INVALID_OPENING_FEE_PARAMS', 'promise does not match these parameters');
  }
  if (Date.parse(params.valid_until) <= nowMs) {
    throw new ApiError('INVALID_OPENING_FEE_PARAMS', `valid_until ${params.valid_until} has passed`);
  }
  if (paymentSizeMsat === undefined) return { openingFeeMsat: undefined };
  if (paymentSizeMsat < params.min_payment_size_msat) {
    throw new ApiError(
      'PAYMENT_SIZE_TOO_SMALL',
      `below min_payment_size_msat ${params.min_payment_size_msat}`,
    );
  }
  if (paymentSizeMsat > params.max_payment_size_msat) {
    throw new ApiError(
      'PAYMENT_SIZE_TOO_LARGE',
      `above max_payment_size_msat ${params.max_payment_size_msat}`,
    );
  }
  let fee: bigint;
  try {
    fee = openingFeeMsat(paymentSizeMsat, params);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'FEE_OVERFLOW') {
      throw new ApiError('PAYMENT_SIZE_TOO_LARGE', 'opening fee overflows u64');
    }
    throw e;
  }
  if (fee >= paymentSizeMsat) {
    throw new ApiError('PAYMENT_SIZE_TOO_SMALL', `opening fee ${fee} msat would take the whole payment`);
  }
  return { openingFeeMsat: fee };
}

// ---------------------------------------------------------------- procedures

export const jitGetInfoInput = z.strictObject({ token: z.optional(checked(z.string(), z.maxLength(256))) });
export const jitGetInfoOutput = z.object({ opening_fee_params_menu: z.array(openingFeeParamsWire) });
export type JitGetInfoOutput = z.infer<typeof jitGetInfoOutput>;

export const jitBuyInput = z.strictObject({
  opening_fee_params: z.strictObject(openingFeeParamsInput.shape),
  /** Set for "MPP+fixed-invoice" mode; omitted for "no-MPP+var-invoice". */
  payment_size_msat: z.optional(msatInput),
});
export type JitBuyInput = z.output<typeof jitBuyInput>;

export const jitBuyOutput = z.object({
  jit_channel_scid: scidString,
  lsp_cltv_expiry_delta: u32,
  client_trusts_lsp: z.literal(false),
});
export type JitBuyOutput = z.infer<typeof jitBuyOutput>;

export const jitPurchaseState = z.enum(['PENDING', 'OPENING', 'OPENED', 'FORWARDED', 'FAILED', 'EXPIRED']);
export type JitPurchaseState = z.infer<typeof jitPurchaseState>;

export const jitPurchaseWire = z.object({
  jit_channel_scid: scidString,
  opening_fee_params: openingFeeParamsWire,
  payment_size_msat: z.nullable(msatString),
  state: jitPurchaseState,
  created_at: isoDatetime,
});
export const jitListOutput = z.object({ purchases: z.array(jitPurchaseWire) });
export const jitGetInput = z.strictObject({ jit_channel_scid: scidString });
