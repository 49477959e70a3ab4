// The floor of the engine: bare LDK nodes wired the simplest way (in-memory persistence that
// completes at once, in-memory links, no store, no guards), so the product's figures can be read
// against what LDK itself costs on this machine. Bench code only: nothing here is product code.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Devnet } from '@lpw/devnet';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p2wpkh, Transaction } from '@scure/btc-signer';
import * as ldk from 'lightningdevkit';

let wasmReady: Promise<void> | undefined;
export function initFloorWasm(): Promise<void> {
  wasmReady ??= ldk.initializeWasmFromBinary(
    readFileSync(createRequire(import.meta.url).resolve('lightningdevkit/liblightningjs.wasm')),
  );
  return wasmReady;
}

const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const reversed = (b: Uint8Array) => Uint8Array.from(b).reverse();

// biome-ignore lint/suspicious/noExplicitAny: LDK results are unions the floor does not model
function ok<T>(r: any, what: string): T {
  if (r.is_ok()) return r.res as T;
  throw new Error(`${what}: ${r.err?.constructor?.name ?? r.err}`);
}

export class FloorNode {
  readonly cm: ldk.ChannelManager;
  readonly pm: ldk.PeerManager;
  readonly nodeId: Uint8Array;
  private readonly chainMonitor: ldk.ChainMonitor;
  /** Rust holds callbacks weakly: every one stays referenced here for the node's life. */
  readonly retained: unknown[] = [];
  private readonly handler: ldk.EventHandler;
  private readonly walletKey = randomBytes(32);
  private scheduled = false;
  private armed = false;
  private readonly waiters = new Map<string, (ok: boolean) => void>();
  claimed = 0;

  constructor(
    readonly devnet: Devnet,
    lsp: boolean,
  ) {
    const logger = ldk.Logger.new_impl({ log() {} });
    const fees = ldk.FeeEstimator.new_impl({
      get_est_sat_per_1000_weight: (t: ldk.ConfirmationTarget) =>
        t === ldk.ConfirmationTarget.LDKConfirmationTarget_MaximumFeeEstimate ? 2500 : 253,
    });
    const broadcaster = ldk.BroadcasterInterface.new_impl({
      broadcast_transactions: (txs: Uint8Array[]) => {
        for (const tx of txs) {
          try {
            devnet.chain.submitTransaction(tx);
          } catch {}
        }
      },
    });
    const persist = ldk.Persist.new_impl({
      persist_new_channel: () => ldk.ChannelMonitorUpdateStatus.LDKChannelMonitorUpdateStatus_Completed,
      update_persisted_channel: (_o: unknown, _u: unknown, monitor: ldk.ChannelMonitor) => {
        monitor.write(); // the floor still serialises, as any persister must
        return ldk.ChannelMonitorUpdateStatus.LDKChannelMonitorUpdateStatus_Completed;
      },
      archive_persisted_channel: () => {},
    });
    this.chainMonitor = ldk.ChainMonitor.constructor_new(
      ldk.Option_FilterZ.constructor_none(),
      broadcaster,
      logger,
      fees,
      persist,
    );
    const now = Date.now();
    const keys = ldk.KeysManager.constructor_new(
      randomBytes(32),
      BigInt(Math.floor(now / 1000)),
      (now % 1000) * 1e6,
    );
    const graph = ldk.NetworkGraph.constructor_new(ldk.Network.LDKNetwork_Regtest, logger);
    const scorer = ldk.ProbabilisticScorer.constructor_new(
      ldk.ProbabilisticScoringDecayParameters.constructor_default(),
      graph,
      logger,
    );
    const lockable = ldk.MultiThreadedLockableScore.constructor_new(scorer.as_Score());
    const router = ldk.DefaultRouter.constructor_new(
      graph,
      logger,
      keys.as_EntropySource(),
      lockable.as_LockableScore(),
      ldk.ProbabilisticScoringFeeParameters.constructor_default(),
    );
    const messageRouter = ldk.DefaultMessageRouter.constructor_new(graph, keys.as_EntropySource());
    const config = ldk.UserConfig.constructor_default();
    const handshake = config.get_channel_handshake_config();
    handshake.set_our_max_accepted_htlcs(483);
    handshake.set_max_inbound_htlc_value_in_flight_percent_of_channel(100);
    config.set_channel_handshake_config(handshake);
    config.set_accept_forwards_to_priv_channels(lsp);
    const tip = devnet.chain.tip();
    this.cm = ldk.ChannelManager.constructor_new(
      fees,
      this.chainMonitor.as_Watch(),
      broadcaster,
      router.as_Router(),
      messageRouter.as_MessageRouter(),
      logger,
      keys.as_EntropySource(),
      keys.as_NodeSigner(),
      keys.as_SignerProvider(),
      config,
      ldk.ChainParameters.constructor_new(
        ldk.Network.LDKNetwork_Regtest,
        ldk.BestBlock.constructor_new(reversed(fromHex(tip.hash)), tip.height),
      ),
      Math.floor(now / 1000),
    );
    const ignorer = ldk.IgnoringMessageHandler.constructor_new();
    this.pm = ldk.PeerManager.constructor_new(
      this.cm.as_ChannelMessageHandler(),
      ignorer.as_RoutingMessageHandler(),
      ignorer.as_OnionMessageHandler(),
      ignorer.as_CustomMessageHandler(),
      Math.floor(now / 1000),
      randomBytes(32),
      logger,
      keys.as_NodeSigner(),
    );
    this.nodeId = this.cm.get_our_node_id();
    this.handler = ldk.EventHandler.new_impl({
      handle_event: (event: ldk.Event) => {
        this.onEvent(event);
        return ldk.Result_NoneReplayEventZ.constructor_ok();
      },
    });
    this.retained.push(
      logger,
      fees,
      broadcaster,
      persist,
      keys,
      graph,
      scorer,
      lockable,
      router,
      messageRouter,
    );
    this.retained.push(ignorer);
    devnet.chain.onBlock((e) => {
      if (e.type !== 'connected') return;
      const header = e.block.header;
      const txs = e.block.txs.map((t, i) => ldk.TwoTuple_usizeTransactionZ.constructor_new(i, t.raw));
      for (const c of [this.cm.as_Confirm(), this.chainMonitor.as_Confirm()]) {
        c.transactions_confirmed(header, txs, e.block.height);
        c.best_block_updated(header, e.block.height);
      }
      this.pump();
    });
    this.arm();
  }

  private arm() {
    if (this.armed) return;
    this.armed = true;
    const cb = ldk.FutureCallback.new_impl({
      call: () => {
        this.armed = false;
        this.pump();
      },
    });
    this.retained.push(cb);
    this.cm.get_event_or_persistence_needed_future().register_callback_fn(cb);
  }

  pump() {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.cm.as_EventsProvider().process_pending_events(this.handler);
      this.chainMonitor.as_EventsProvider().process_pending_events(this.handler);
      this.pm.process_events();
      if (this.cm.get_and_clear_needs_persistence()) this.cm.write();
      this.arm();
    });
  }

  private onEvent(event: ldk.Event) {
    if (event instanceof ldk.Event_FundingGenerationReady) {
      const tx = this.fundingTx(event.output_script, event.channel_value_satoshis);
      ok(
        this.cm.funding_transaction_generated(event.temporary_channel_id, event.counterparty_node_id, tx),
        'funding',
      );
    } else if (event instanceof ldk.Event_PendingHTLCsForwardable) {
      setImmediate(() => {
        this.cm.process_pending_htlc_forwards();
        this.pump();
      });
    } else if (event instanceof ldk.Event_PaymentClaimable) {
      const preimage = event.purpose.preimage();
      if (preimage instanceof ldk.Option_ThirtyTwoBytesZ_Some) this.cm.claim_funds(preimage.some);
    } else if (event instanceof ldk.Event_PaymentClaimed) {
      this.claimed++;
    } else if (event instanceof ldk.Event_PaymentSent) {
      this.waiters.get(hex(event.payment_hash))?.(true);
    } else if (event instanceof ldk.Event_PaymentFailed) {
      const hash = event.payment_hash;
      if (hash instanceof ldk.Option_ThirtyTwoBytesZ_Some) this.waiters.get(hex(hash.some))?.(false);
    }
  }

  private fundingTx(script: Uint8Array, valueSat: bigint): Uint8Array {
    const pub = secp256k1.getPublicKey(this.walletKey, true);
    const own = p2wpkh(pub, REGTEST);
    const txid = this.devnet.fund(own.address!, valueSat + 10_000n);
    const funded = this.devnet.chain.getTransaction(txid)!;
    const vout = funded.tx.outputs.findIndex(
      (o: { script: Uint8Array }) => hex(o.script) === hex(own.script),
    );
    const tx = new Transaction();
    tx.addInput({ txid, index: vout, witnessUtxo: { script: own.script, amount: valueSat + 10_000n } });
    tx.addOutput({ script, amount: valueSat });
    tx.addOutput({ script: own.script, amount: 9_000n });
    tx.sign(this.walletKey);
    tx.finalize();
    return tx.extract();
  }

  /** Bytes from the link, delivered later so no PeerManager is re-entered from its own send_data. */
  deliver(desc: ldk.SocketDescriptor, data: Uint8Array): void {
    const copy = Uint8Array.from(data);
    setImmediate(() => {
      this.pm.read_event(desc, copy);
      this.pump();
    });
  }

  invoice(amountMsat: bigint): string {
    const description = ok<ldk.Description>(ldk.Description.constructor_new('floor'), 'description');
    const invoice = ok<ldk.Bolt11Invoice>(
      this.cm.create_bolt11_invoice(
        ldk.Option_u64Z.constructor_some(amountMsat),
        ldk.Bolt11InvoiceDescription.constructor_direct(description),
        ldk.Option_u32Z.constructor_some(3600),
        ldk.Option_u16Z.constructor_none(),
        ldk.Option_ThirtyTwoBytesZ.constructor_none(),
      ),
      'invoice',
    );
    return invoice.to_str();
  }

  /** Resolves true when the payment succeeds, false when it fails. */
  pay(bolt11: string): Promise<boolean> {
    const invoice = ok<ldk.Bolt11Invoice>(ldk.Bolt11Invoice.constructor_from_str(bolt11), 'parse');
    const params = ok<ldk.ThreeTuple_ThirtyTwoBytesRecipientOnionFieldsRouteParametersZ>(
      ldk.UtilMethods.constructor_payment_parameters_from_invoice(invoice),
      'params',
    );
    const hash = params.get_a();
    const done = new Promise<boolean>((resolve) => this.waiters.set(hex(hash), resolve));
    const r = this.cm.send_payment(
      hash,
      params.get_b(),
      randomBytes(32),
      params.get_c(),
      ldk.Retry.constructor_attempts(3),
    );
    if (!r.is_ok()) return Promise.resolve(false);
    this.pump();
    return done.finally(() => this.waiters.delete(hex(hash)));
  }
}

/** Connect two floor nodes with an in-memory link delivering bytes asynchronously. */
export function linkFloor(a: FloorNode, b: FloorNode): void {
  let nextId = BigInt(Date.now()) * 1000n;
  const side = (self: FloorNode, other: () => { desc: ldk.SocketDescriptor; node: FloorNode }) => {
    const id = nextId++;
    const desc = ldk.SocketDescriptor.new_impl({
      send_data: (data: Uint8Array) => {
        const peer = other();
        peer.node.deliver(peer.desc, data);
        return data.length;
      },
      disconnect_socket: () => {},
      eq: (o: ldk.SocketDescriptor) => o.hash() === id,
      hash: () => id,
    });
    return { desc, node: self };
  };
  const sa = side(a, () => sb);
  const sb = side(b, () => sa);
  ok(b.pm.new_inbound_connection(sb.desc, ldk.Option_SocketAddressZ.constructor_none()), 'inbound');
  const first = ok<Uint8Array>(
    a.pm.new_outbound_connection(b.nodeId, sa.desc, ldk.Option_SocketAddressZ.constructor_none()),
    'outbound',
  );
  a.retained.push(sa.desc);
  b.retained.push(sb.desc);
  b.deliver(sb.desc, first);
}
