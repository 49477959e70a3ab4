// The on-chain payment handle (ldk-node's payment/onchain.rs shape): balance, a receive address,
// sends whose fee is known before anything is signed, and the way out of channels without the
// LSP — what each closing channel will pay and in how many blocks, and the sweeps into the wallet.
export {
  type ClaimableKind,
  type ClaimableOutput,
  hoursOf,
  MINUTES_PER_BLOCK,
  type PendingSweep,
} from '../balances.ts';

import { decodeAddress, PaymentRequestError, parsePaymentRequest } from '@lpw/payment-request';
import { hex } from '@scure/base';
import {
  type Balances,
  type ChannelClaim,
  type ClaimableOutput,
  hoursOf,
  type PendingSweep,
} from '../balances.ts';
import type { ChainFeeEstimator } from '../chain/fees.ts';
import { NodeError, type NodeErrorCode } from '../errors.ts';
import { isWalletError } from '../wallet/errors.ts';
import { dustLimit, type OnchainWallet, type TxPlan } from '../wallet/onchain.ts';

export type OnchainNetwork = 'bitcoin' | 'testnet' | 'signet' | 'regtest';

export interface OnchainBalance {
  /** In confirmed outputs: what a send can spend. */
  confirmedMsat: bigint;
  /** In outputs of unconfirmed transactions (incoming, our own change). */
  unconfirmedMsat: bigint;
}

export interface PrepareSendRequest {
  /** A bitcoin address or a BIP 21 URI (`bitcoin:<address>?amount=…`, also a unified QR's fallback). */
  destination: string;
  /** Whole sats in msat, or 'all' (every confirmed coin, the fee taken from it). Default: the URI's amount. */
  amountMsat?: bigint | 'all';
  /** Fee rate; default the estimator's OutputSpendingFee (confirmation within ~12 blocks). */
  feerateSatPerKw?: number;
}

/** A send chosen and priced but not signed; hand it back to `send` to sign and broadcast it. */
export interface PreparedOnchainSend {
  readonly address: string;
  /** What the recipient gets. */
  readonly amountMsat: bigint;
  readonly feeMsat: bigint;
  readonly feerateSatPerKw: number;
  /** The same rate in sat/vB, for people (1 vB = 4 weight units). */
  readonly feerateSatPerVb: number;
  readonly sendsAll: boolean;
  readonly label: string | undefined;
  readonly message: string | undefined;
}

export interface ClosingChannel {
  channelId: string;
  fundingTxo: string;
  claimableMsat: bigint;
  /** The longest wait among its outputs (undefined while the close is unconfirmed). */
  blocksLeft: number | undefined;
  hoursLeft: number | undefined;
  outputs: ClaimableOutput[];
}

export interface OnchainPaymentParts {
  wallet: OnchainWallet;
  fees: ChainFeeEstimator;
  network: OnchainNetwork;
  /** The node's balances (balances.ts): closes and sweeps are read from there, deduplicated. */
  balances: () => Balances;
  assertRunning: () => void;
}

/**
 * @example
 * const prepared = await node.onchainPayment.prepareSend({ destination: 'bitcoin:bcrt1q…?amount=0.001' });
 * // show prepared.feeMsat, then on the person's yes:
 * const txid = await node.onchainPayment.send(prepared);
 */
export class OnchainPayment {
  /** Prepared sends not sent yet, with what `send` needs; an object not from `prepareSend` is refused. */
  private readonly prepared = new WeakMap<PreparedOnchainSend, TxPlan>();

  constructor(private readonly parts: OnchainPaymentParts) {}

  balance(): OnchainBalance {
    const b = this.parts.wallet.balance();
    return { confirmedMsat: b.confirmedSat * 1000n, unconfirmedMsat: b.unconfirmedSat * 1000n };
  }

  /** A fresh BIP 84 receive address (never handed out twice). */
  receiveAddress(): Promise<string> {
    this.parts.assertRunning();
    return this.parts.wallet.newAddress();
  }

  /** Checks the destination and amount and prices the send; nothing is signed or spent. */
  prepareSend(request: PrepareSendRequest): PreparedOnchainSend {
    this.parts.assertRunning();
    if (typeof request !== 'object' || request === null || typeof request.destination !== 'string')
      throw new NodeError('INVALID_INPUT', '"destination" expected a bitcoin address or a bitcoin: URI');
    const target = this.destination(request.destination);
    const asked = request.amountMsat ?? target.amountMsat;
    if (asked === undefined)
      throw new NodeError('INVALID_INPUT', '"amountMsat" missing: the destination names none');
    if (asked !== 'all') {
      if (typeof asked !== 'bigint' || asked <= 0n || asked % 1000n !== 0n)
        throw new NodeError(
          'INVALID_INPUT',
          `"amountMsat" expected a positive whole number of sats in msat, got ${String(asked)}`,
        );
      if (target.amountMsat !== undefined && asked !== target.amountMsat)
        throw new NodeError('INVALID_INPUT', `the URI asks for ${target.amountMsat} msat, not ${asked}`);
      const dust = dustLimit(target.script);
      if (asked / 1000n < dust)
        throw new NodeError(
          'AMOUNT_BELOW_DUST',
          `${asked / 1000n} sat is below the ${dust} sat the network relays`,
        );
    }
    const feerate = request.feerateSatPerKw ?? this.parts.fees.satPerKw('OutputSpendingFee');
    let plan: TxPlan;
    try {
      plan = this.parts.wallet.planSend(target.script, asked === 'all' ? 'all' : asked / 1000n, feerate);
    } catch (e) {
      throw fromWalletError(e);
    }
    const prepared: PreparedOnchainSend = Object.freeze({
      address: target.address,
      amountMsat: plan.recipients[0]!.valueSat * 1000n,
      feeMsat: plan.feeSat * 1000n,
      feerateSatPerKw: plan.feerateSatPerKw,
      feerateSatPerVb: Math.round((plan.feerateSatPerKw * 4) / 100) / 10,
      sendsAll: asked === 'all',
      label: target.label,
      message: target.message,
    });
    this.prepared.set(prepared, plan);
    return prepared;
  }

  /** Signs and broadcasts a prepared send (once); returns its txid. */
  async send(prepared: PreparedOnchainSend): Promise<string> {
    this.parts.assertRunning();
    const plan = this.prepared.get(prepared);
    if (!plan) throw new NodeError('SEND_OUTDATED', 'not a prepared send of this node, or sent already');
    this.prepared.delete(prepared);
    try {
      return await this.parts.wallet.sendPlanned(plan);
    } catch (e) {
      throw fromWalletError(e);
    }
  }

  /**
   * Channels closed or closing whose money is still on its way: per channel what LDK will claim
   * (less what the wallet already counts) and the blocks left (a force close's CSV delay counts
   * from the close's confirmation). The same claims as `balances().claims`.
   */
  closingChannels(): ClosingChannel[] {
    const byChannel = new Map<string, ChannelClaim[]>();
    for (const claim of this.parts.balances().claims)
      byChannel.set(claim.channelId, [...(byChannel.get(claim.channelId) ?? []), claim]);
    return [...byChannel.values()].map((claims) => {
      const waits = claims.map((o) => o.blocksLeft);
      const blocksLeft = waits.includes(undefined) ? undefined : Math.max(...(waits as number[]));
      const outputs = claims.map(({ channelId: _c, fundingTxo: _f, ...output }) => output);
      return {
        channelId: claims[0]!.channelId,
        fundingTxo: claims[0]!.fundingTxo,
        claimableMsat: claims.reduce((n, o) => n + o.amountMsat, 0n),
        blocksLeft,
        hoursLeft: blocksLeft === undefined ? undefined : hoursOf(blocksLeft),
        outputs,
      };
    });
  }

  /** Outputs of closed channels LDK's sweeper is moving into the wallet, until the wallet counts the sweep. */
  pendingSweeps(): PendingSweep[] {
    return this.parts.balances().sweeps;
  }

  private destination(text: string): {
    address: string;
    script: Uint8Array;
    amountMsat: bigint | undefined;
    label: string | undefined;
    message: string | undefined;
  } {
    const trimmed = text.trim();
    try {
      if (/^bitcoin:/i.test(trimmed)) {
        const request = parsePaymentRequest(trimmed, {
          network: this.parts.network,
          nowSec: Math.floor(Date.now() / 1000),
        });
        const address =
          request.kind === 'onchain'
            ? request.address
            : 'fallbackAddress' in request
              ? request.fallbackAddress
              : undefined;
        if (address === undefined)
          throw new NodeError('INVALID_URI', 'this bitcoin: URI has no on-chain address');
        const sat =
          request.kind === 'onchain'
            ? request.amountSat
            : 'fallbackAmountSat' in request
              ? request.fallbackAmountSat
              : undefined;
        const notes = request as { label?: string; message?: string };
        return {
          ...this.address(address),
          amountMsat: sat === undefined ? undefined : sat * 1000n,
          label: notes.label,
          message: notes.message,
        };
      }
      return { ...this.address(trimmed), amountMsat: undefined, label: undefined, message: undefined };
    } catch (e) {
      if (!(e instanceof PaymentRequestError)) throw e;
      const code: NodeErrorCode =
        e.code === 'WRONG_NETWORK'
          ? 'WRONG_NETWORK'
          : e.code === 'INVALID_URI'
            ? 'INVALID_URI'
            : 'INVALID_ADDRESS';
      throw new NodeError(code, e.message, { cause: e });
    }
  }

  private address(text: string): { address: string; script: Uint8Array } {
    const decoded = decodeAddress(text);
    if (!decoded.networks.includes(this.parts.network))
      throw new NodeError(
        'WRONG_NETWORK',
        `This address is for another bitcoin network than your wallet’s (${this.parts.network}): ${decoded.address}`,
      );
    return { address: decoded.address, script: hex.decode(decoded.scriptPubKey) };
  }
}

function fromWalletError(e: unknown): unknown {
  if (!isWalletError(e)) return e;
  const code: NodeErrorCode =
    e.code === 'INSUFFICIENT_FUNDS'
      ? 'INSUFFICIENT_FUNDS'
      : e.code === 'STALE_PLAN'
        ? 'SEND_OUTDATED'
        : e.code === 'BROADCAST_REJECTED'
          ? 'BROADCAST_REJECTED'
          : 'INVALID_INPUT';
  return new NodeError(code, e.message, { cause: e });
}
