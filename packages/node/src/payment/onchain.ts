// The on-chain payment handle (ldk-node's payment/onchain.rs shape): balance, a receive address,
// sends whose fee is known before anything is signed, and the way out of channels without the
// LSP — what each closing channel will pay and in how many blocks, and the sweeps into the wallet.
import { decodeAddress, PaymentRequestError, parsePaymentRequest } from '@lpw/payment-request';
import { hex } from '@scure/base';
import * as ldk from 'lightningdevkit';
import type { ChainFeeEstimator } from '../chain/fees.ts';
import { NodeError, type NodeErrorCode } from '../errors.ts';
import { channelIdHex, outpointKey } from '../ldk/values.ts';
import { claimableAfterPeerClose, ignoredStub } from '../recovery.ts';
import { isWalletError } from '../wallet/errors.ts';
import { dustLimit, type OnchainWallet, type TxPlan } from '../wallet/onchain.ts';
import type { Sweeper, SweptOutput } from '../wallet/sweeper.ts';

/** Bitcoin's target block interval: what a countdown in blocks means in hours. */
export const MINUTES_PER_BLOCK = 10;

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

export type ClaimableKind =
  /** The closing transaction is not confirmed yet: the countdown starts when it is. */
  | 'awaiting-close'
  /** Confirmed; ours after `blocksLeft` (the CSV delay of a force close, or reorg safety). */
  | 'awaiting-confirmations'
  /** An HTLC that is ours with the preimage, or the peer's after a timeout. */
  | 'htlc'
  /** An output of the peer's revoked state: ours to claim. */
  | 'revoked';

export interface ClaimableOutput {
  kind: ClaimableKind;
  amountMsat: bigint;
  /** How the channel closed, when LDK says. */
  source: 'our-force-close' | 'their-force-close' | 'cooperative' | 'htlc' | undefined;
  /** Block height from which it is ours (spendable or swept); undefined while the close is unconfirmed. */
  claimableAtHeight: number | undefined;
  blocksLeft: number | undefined;
  /** `blocksLeft` at 10 minutes a block. */
  hoursLeft: number | undefined;
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

export interface PendingSweep extends SweptOutput {
  amountMsat: bigint;
}

export interface OnchainPaymentParts {
  wallet: OnchainWallet;
  fees: ChainFeeEstimator;
  network: OnchainNetwork;
  channelManager: ldk.ChannelManager;
  chainMonitor: ldk.ChainMonitor;
  sweeper: Sweeper;
  /** Channels the peer closed, and restored ones waiting for its close (recovery.ts). */
  settlement: () => { closedByPeer: Set<string>; awaiting: Set<string> };
  assertRunning: () => void;
}

const SOURCES: Record<ldk.BalanceSource, ClaimableOutput['source']> = {
  [ldk.BalanceSource.LDKBalanceSource_HolderForceClosed]: 'our-force-close',
  [ldk.BalanceSource.LDKBalanceSource_CounterpartyForceClosed]: 'their-force-close',
  [ldk.BalanceSource.LDKBalanceSource_CoopClose]: 'cooperative',
  [ldk.BalanceSource.LDKBalanceSource_Htlc]: 'htlc',
};

export const hoursOf = (blocks: number): number => Math.round((blocks * MINUTES_PER_BLOCK) / 6) / 10;

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
   * and the blocks left (a force close's CSV delay counts from the close's confirmation).
   */
  closingChannels(): ClosingChannel[] {
    const cm = this.parts.channelManager;
    const open = cm.list_channels();
    const height = cm.current_best_block().get_height();
    const monitors = this.parts.chainMonitor.list_monitors();
    const settlement = this.parts.settlement();
    const result: ClosingChannel[] = [];
    for (const entry of monitors) {
      const outpoint = entry.get_a();
      // the ChainMonitor reports balances of every monitor but those of the channels passed: pass
      // the open ones and every other monitor, so what remains is this channel's
      const others = monitors
        .filter((m) => m !== entry)
        .map((m) => ignoredStub(m.get_a(), cm.get_our_node_id()));
      const key = outpointKey(outpoint);
      // a channel the peer closed (or restored and waiting for its close): our share is, or will be,
      // a wallet coin already counted in the on-chain balance (recovery.ts)
      if (settlement.awaiting.has(key) && !settlement.closedByPeer.has(key)) continue;
      const all = this.parts.chainMonitor.get_claimable_balances([...open, ...others]);
      const balances = settlement.closedByPeer.has(key) ? all.filter(claimableAfterPeerClose) : all;
      const outputs = balances.map((b) => claimableOutput(b, height)).filter((o) => o.amountMsat > 0n);
      if (outputs.length === 0) continue;
      const waits = outputs.map((o) => o.blocksLeft);
      const blocksLeft = waits.includes(undefined) ? undefined : Math.max(...(waits as number[]));
      result.push({
        channelId: channelIdHex(entry.get_b()),
        fundingTxo: key,
        claimableMsat: outputs.reduce((n, o) => n + o.amountMsat, 0n),
        blocksLeft,
        hoursLeft: blocksLeft === undefined ? undefined : hoursOf(blocksLeft),
        outputs,
      });
    }
    return result;
  }

  /** Outputs of closed channels LDK's sweeper is moving into the wallet. */
  pendingSweeps(): PendingSweep[] {
    return this.parts.sweeper.tracked().map((s) => ({ ...s, amountMsat: s.valueSat * 1000n }));
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

function claimableOutput(b: ldk.Balance, height: number): ClaimableOutput {
  const amountMsat = b.claimable_amount_satoshis() * 1000n;
  const at = (kind: ClaimableKind, h: number | undefined, source: ClaimableOutput['source']) => {
    const blocksLeft = h === undefined ? undefined : Math.max(0, h - height);
    return {
      kind,
      amountMsat,
      source,
      claimableAtHeight: h,
      blocksLeft,
      hoursLeft: blocksLeft === undefined ? undefined : hoursOf(blocksLeft),
    };
  };
  if (b instanceof ldk.Balance_ClaimableAwaitingConfirmations)
    return at('awaiting-confirmations', b.confirmation_height, SOURCES[b.source]);
  if (b instanceof ldk.Balance_ContentiousClaimable) return at('htlc', b.timeout_height, 'htlc');
  if (b instanceof ldk.Balance_MaybeTimeoutClaimableHTLC) return at('htlc', b.claimable_height, 'htlc');
  if (b instanceof ldk.Balance_MaybePreimageClaimableHTLC) return at('htlc', b.expiry_height, 'htlc');
  if (b instanceof ldk.Balance_CounterpartyRevokedOutputClaimable) return at('revoked', height, undefined);
  return at('awaiting-close', undefined, undefined); // ClaimableOnChannelClose
}
