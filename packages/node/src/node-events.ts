// What the node does with each LDK event, and the typed NodeEvent it emits. Runs inside LDK's
// event handler, so it only calls ChannelManager methods LDK allows there and queues the rest.
// Idempotent: events from before a restart are replayed.
import * as ldk from 'lightningdevkit';
import type { EventBus, NodeEvent } from './events.ts';
import { freeLdk } from './ldk/free.ts';
import { bool, channelIdHex, outpointKey, someOf, toHex, u128FromLdk } from './ldk/values.ts';
import type { PaymentStore } from './payments.ts';
import { payTrace } from './start-marks.ts';

export type InboundChannelDecision = 'accept' | 'accept-0conf' | 'reject' | 'manual';
export interface InboundChannelRequest {
  peerId: string;
  fundingSat: bigint;
  pushMsat: bigint;
  announced: boolean;
}

export interface FundingRequest {
  temporaryChannelId: string;
  peerId: string;
  valueSat: bigint;
  outputScript: Uint8Array;
}

export interface EventContext {
  channelManager: ldk.ChannelManager;
  scorer: ldk.ProbabilisticScorer;
  payments: PaymentStore;
  bus: EventBus;
  /** Build and sign (not broadcast) a transaction paying `valueSat` to `outputScript` (the on-chain wallet). */
  fundChannel: (request: FundingRequest) => Promise<Uint8Array>;
  /** Give a funding transaction's coins back to the wallet (LDK will never broadcast it). */
  releaseFunding: (transaction: Uint8Array) => void;
  /** Hand descriptors to the sweeper; true once its state is durable (false: replay the event later). */
  trackSpendable: (outputs: ldk.SpendableOutputDescriptor[], channelId: ldk.ChannelId | null) => boolean;
  inboundPolicy: (request: InboundChannelRequest) => InboundChannelDecision;
  scheduleForwards: () => void;
  /** Run after the current LDK call (async work: funding). */
  defer: (fn: () => void) => void;
  wake: () => void;
  now: () => number;
  randomU128: () => bigint;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

const reasonName = (reason: ldk.PaymentFailureReason | undefined) =>
  reason === undefined
    ? 'unknown'
    : (ldk.PaymentFailureReason[reason] ?? String(reason)).replace('LDKPaymentFailureReason_', '');

export function handleLdkEvent(ctx: EventContext, event: ldk.Event): boolean {
  const cm = ctx.channelManager;
  const emit = (e: NodeEvent) => ctx.bus.emit(e);
  const nowSecs = () => BigInt(Math.floor(ctx.now() / 1000));

  if (event instanceof ldk.Event_FundingGenerationReady) {
    const temporaryChannelId = event.temporary_channel_id;
    const peer = Uint8Array.from(event.counterparty_node_id);
    const request: FundingRequest = {
      temporaryChannelId: channelIdHex(temporaryChannelId),
      peerId: toHex(peer),
      valueSat: event.channel_value_satoshis,
      outputScript: Uint8Array.from(event.output_script),
    };
    emit({ kind: 'funding-needed', ...request, userChannelId: u128FromLdk(event.user_channel_id) });
    const heldId = temporaryChannelId.clone();
    // outside the event handler: coin selection is async, and LDK must not be re-entered here
    ctx.defer(() => {
      let funding: Uint8Array | undefined;
      ctx
        .fundChannel(request)
        .then((tx) => {
          funding = tx;
          const result = cm.funding_transaction_generated(heldId, peer, tx);
          if (!bool(result.is_ok())) throw new Error('funding_transaction_generated refused the transaction');
        })
        .catch((error: unknown) => {
          emit({
            kind: 'error',
            code: 'FUNDING_FAILED',
            message: `funding ${request.temporaryChannelId}: ${error instanceof Error ? error.message : String(error)}`,
            cause: error,
          });
          if (funding) ctx.releaseFunding(funding);
          cm.force_close_without_broadcasting_txn(heldId, peer, 'funding failed');
        })
        .finally(() => ctx.wake());
    });
    return true;
  }

  if (event instanceof ldk.Event_DiscardFunding) {
    // the channel closed before its funding was broadcast: the coins are ours to spend again
    const info = event.funding_info;
    if (info instanceof ldk.FundingInfo_Tx) ctx.releaseFunding(Uint8Array.from(info.transaction));
    return true;
  }

  if (event instanceof ldk.Event_PaymentClaimable) {
    const hash = toHex(event.payment_hash);
    const preimage = preimageOf(event.purpose);
    const skimmed = event.counterparty_skimmed_fee_msat;
    const record = ctx.payments.get(hash);
    const allowedSkim = record?.maxSkimmedFeeMsat ?? 0n;
    if (!preimage) {
      ctx.log('warn', `payment ${hash} claimable but we hold no preimage: failing back`);
      cm.fail_htlc_backwards(event.payment_hash);
    } else if (skimmed > allowedSkim) {
      ctx.log('warn', `payment ${hash}: peer skimmed ${skimmed} msat, allowed ${allowedSkim}: failing back`);
      cm.fail_htlc_backwards(event.payment_hash);
    } else {
      cm.claim_funds(preimage);
    }
    return true;
  }

  if (event instanceof ldk.Event_PaymentClaimed) {
    const hash = toHex(event.payment_hash);
    const preimage = preimageOf(event.purpose);
    let skimmedFeeMsat = 0n;
    for (const htlc of event.htlcs) skimmedFeeMsat += htlc.get_counterparty_skimmed_fee_msat();
    const changes = {
      status: 'succeeded' as const,
      amountMsat: event.amount_msat,
      skimmedFeeMsat,
      ...(preimage ? { preimage: toHex(preimage) } : {}),
    };
    if (!ctx.payments.update(hash, changes)) {
      // no record yet: a keysend, or a stateless invoice (createInvoice stateless) now paid
      const kind =
        event.purpose instanceof ldk.PaymentPurpose_SpontaneousPayment
          ? 'keysend'
          : event.purpose instanceof ldk.PaymentPurpose_Bolt12OfferPayment
            ? 'bolt12'
            : 'bolt11';
      ctx.payments.create({ id: hash, direction: 'inbound', kind, paymentHash: hash, ...changes });
    }
    const paymentId = someOf<Uint8Array>(event.payment_id);
    emit({
      kind: 'payment-received',
      paymentHash: hash,
      amountMsat: event.amount_msat,
      skimmedFeeMsat,
      ...(paymentId ? { paymentId: toHex(paymentId) } : {}),
    });
    return true;
  }

  if (event instanceof ldk.Event_PaymentSent) {
    payTrace('ldk:payment-sent');
    const paymentId = someOf<Uint8Array>(event.payment_id);
    const id = paymentId ? toHex(paymentId) : toHex(event.payment_hash);
    const feeMsat = someOf<bigint>(event.fee_paid_msat);
    const updated = ctx.payments.update(id, {
      status: 'succeeded',
      paymentHash: toHex(event.payment_hash), // a BOLT 12 payment learns it only now
      preimage: toHex(event.payment_preimage),
      ...(feeMsat !== undefined ? { feeMsat } : {}),
    });
    emit({
      kind: 'payment-sent',
      paymentId: id,
      paymentHash: toHex(event.payment_hash),
      preimage: toHex(event.payment_preimage),
      feeMsat,
      amountMsat: updated?.amountMsat,
    });
    return true;
  }

  if (event instanceof ldk.Event_PaymentFailed) {
    const id = toHex(event.payment_id);
    const hash = someOf<Uint8Array>(event.payment_hash);
    const reason = reasonName(someOf<ldk.PaymentFailureReason>(event.reason));
    ctx.payments.update(id, { status: 'failed', failureReason: reason });
    emit({ kind: 'payment-failed', paymentId: id, paymentHash: hash ? toHex(hash) : undefined, reason });
    return true;
  }

  // The scorer learns from payment outcomes (BackgroundProcessor's job in Rust).
  if (event instanceof ldk.Event_PaymentPathFailed) {
    const scid = someOf<bigint>(event.short_channel_id);
    if (scid !== undefined && !bool(event.payment_failed_permanently)) {
      updateScorer(ctx, (s) => s.payment_path_failed(event.path, scid, nowSecs()));
    }
    return true;
  }
  if (event instanceof ldk.Event_PaymentPathSuccessful) {
    updateScorer(ctx, (s) => s.payment_path_successful(event.path, nowSecs()));
    return true;
  }
  if (event instanceof ldk.Event_ProbeSuccessful) {
    updateScorer(ctx, (s) => s.probe_successful(event.path, nowSecs()));
    return true;
  }
  if (event instanceof ldk.Event_ProbeFailed) {
    const scid = someOf<bigint>(event.short_channel_id);
    if (scid !== undefined) updateScorer(ctx, (s) => s.probe_failed(event.path, scid, nowSecs()));
    return true;
  }

  if (event instanceof ldk.Event_PendingHTLCsForwardable) {
    ctx.scheduleForwards();
    return true;
  }

  if (event instanceof ldk.Event_HTLCIntercepted) {
    emit({
      kind: 'htlc-intercepted',
      interceptId: toHex(event.intercept_id),
      requestedScid: event.requested_next_hop_scid,
      paymentHash: toHex(event.payment_hash),
      inboundAmountMsat: event.inbound_amount_msat,
      expectedOutboundAmountMsat: event.expected_outbound_amount_msat,
    });
    return true;
  }

  if (event instanceof ldk.Event_SpendableOutputs) {
    // Lost descriptors are lost money: the event counts as handled only once the sweeper's state
    // holding them is durable; until then LDK replays it (tracking twice is a no-op).
    const channel = isChannelId(event.channel_id) ? event.channel_id : null;
    if (!ctx.trackSpendable(event.outputs, channel)) return false;
    const descriptors = event.outputs.map((d) => d.write());
    emit({ kind: 'spendable-outputs', channelId: channel ? channelIdHex(channel) : undefined, descriptors });
    return true;
  }

  if (event instanceof ldk.Event_PaymentForwarded) {
    emit({
      kind: 'payment-forwarded',
      prevChannelId: channelIdHex(event.prev_channel_id),
      nextChannelId: channelIdHex(event.next_channel_id),
      feeEarnedMsat: someOf<bigint>(event.total_fee_earned_msat),
      skimmedFeeMsat: someOf<bigint>(event.skimmed_fee_msat),
      outboundAmountMsat: someOf<bigint>(event.outbound_amount_forwarded_msat),
    });
    return true;
  }

  if (event instanceof ldk.Event_ChannelPending) {
    emit({
      kind: 'channel-pending',
      channelId: channelIdHex(event.channel_id),
      userChannelId: u128FromLdk(event.user_channel_id),
      peerId: toHex(event.counterparty_node_id),
      fundingTxo: outpointKey(event.funding_txo),
      formerTemporaryChannelId: channelIdHex(event.former_temporary_channel_id),
    });
    return true;
  }

  if (event instanceof ldk.Event_ChannelReady) {
    emit({
      kind: 'channel-ready',
      channelId: channelIdHex(event.channel_id),
      userChannelId: u128FromLdk(event.user_channel_id),
      peerId: toHex(event.counterparty_node_id),
    });
    return true;
  }

  if (event instanceof ldk.Event_ChannelClosed) {
    emit({
      kind: 'channel-closed',
      channelId: channelIdHex(event.channel_id),
      userChannelId: u128FromLdk(event.user_channel_id),
      peerId: toHex(event.counterparty_node_id),
      reason: event.reason.to_str(),
      capacitySat: someOf<bigint>(event.channel_capacity_sats),
      lastLocalBalanceMsat: someOf<bigint>(event.last_local_balance_msat),
    });
    return true;
  }

  if (event instanceof ldk.Event_OpenChannelRequest) {
    const peer = event.counterparty_node_id;
    const funds = event.channel_negotiation_type;
    const request: InboundChannelRequest = {
      peerId: toHex(peer),
      fundingSat: event.funding_satoshis,
      pushMsat: funds instanceof ldk.InboundChannelFunds_PushMsat ? funds.push_msat : 0n,
      announced: bool(event.is_announced),
    };
    let decision: InboundChannelDecision;
    try {
      decision = ctx.inboundPolicy(request);
    } catch (error) {
      ctx.log('error', `inbound channel policy threw, rejecting: ${String(error)}`);
      decision = 'reject';
    }
    const tempId = event.temporary_channel_id;
    if (decision === 'accept') cm.accept_inbound_channel(tempId, peer, ctx.randomU128());
    else if (decision === 'accept-0conf')
      cm.accept_inbound_channel_from_trusted_peer_0conf(tempId, peer, ctx.randomU128());
    else if (decision === 'reject') cm.force_close_without_broadcasting_txn(tempId, peer, 'channel rejected');
    else emit({ kind: 'open-channel-request', temporaryChannelId: channelIdHex(tempId), ...request });
    return true;
  }

  if (event instanceof ldk.Event_HTLCHandlingFailed) {
    emit({
      kind: 'htlc-handling-failed',
      prevChannelId: channelIdHex(event.prev_channel_id),
      destination: event.failed_next_destination.constructor.name.replace('HTLCDestination_', ''),
    });
    return true;
  }

  if (event instanceof ldk.Event_BumpTransaction) {
    // We never negotiate anchors (config.ts), so this should not happen.
    ctx.log('error', 'BumpTransaction event on a node without anchor channels');
    return true;
  }

  return true; // FundingTxBroadcastSafe, ConnectionNeeded, onion/offer events: unused
}

/** The preimage a payment purpose carries; `preimage()` makes a new Option each call, freed here. */
function preimageOf(purpose: ldk.PaymentPurpose): Uint8Array | undefined {
  const option = purpose.preimage();
  try {
    return someOf<Uint8Array>(option);
  } finally {
    freeLdk(option);
  }
}

/** `as_ScoreUpdate()` allocates a trait object per call (one per payment on the payer): freed after. */
function updateScorer(ctx: EventContext, update: (scorer: ldk.ScoreUpdate) => void): void {
  const scorer = ctx.scorer.as_ScoreUpdate();
  try {
    update(scorer);
  } finally {
    freeLdk(scorer);
  }
}

function isChannelId(value: unknown): value is ldk.ChannelId {
  return value instanceof ldk.ChannelId && (value as unknown as { ptr: bigint }).ptr !== 0n;
}
