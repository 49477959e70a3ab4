// Fee policy: the opening_fee_params menu this LSP offers now, each entry promised (HMAC) so a
// wallet can hand it back to `jit.buy` unchanged until valid_until.
import { createPromise, type OpeningFeeParams, type UnsignedFeeParams } from '@lpw/api';
import type { Config } from '../config.ts';

export function feeMenu(fee: Config['fee'], secret: Uint8Array, nowMs: number): OpeningFeeParams[] {
  // whole seconds: the promise covers the string, and clients echo it back verbatim
  const validUntilMs = Math.floor(nowMs / 1000) * 1000 + fee.validForSec * 1000;
  const unsigned: UnsignedFeeParams = {
    min_fee_msat: fee.minFeeMsat,
    proportional: fee.proportional,
    valid_until: new Date(validUntilMs).toISOString(),
    min_lifetime: fee.minLifetimeBlocks,
    max_client_to_self_delay: fee.maxClientToSelfDelay,
    min_payment_size_msat: fee.minPaymentSizeMsat,
    max_payment_size_msat: fee.maxPaymentSizeMsat,
  };
  return [{ ...unsigned, promise: createPromise(unsigned, secret) }];
}
