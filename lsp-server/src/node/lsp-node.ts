// The seam between the service (routers, admin, metrics) and the Lightning node. The routers need
// only this; the Lightning step implements it over packages/node (see ldk.ts for the part done).
import type { Network } from '@lpw/api';
import type { ForwardingFees } from '@lpw/node';
import type { JitPurchaseRecord } from '../store/types.ts';

export interface LspChannel {
  channelId: string;
  peerId: string;
  capacityMsat: bigint;
  outboundMsat: bigint;
  inboundMsat: bigint;
  isUsable: boolean;
  isAnnounced: boolean;
  shortChannelId: bigint | undefined;
}

export interface LspBalances {
  onchainSat: bigint;
  lightningOutboundMsat: bigint;
  lightningInboundMsat: bigint;
}

export interface RouteRequest {
  /** The wallet that will pay (its channel with us is the first hop). */
  payerNodeId?: string;
  payeeNodeId: string;
  amountMsat: bigint;
  finalCltvExpiryDelta: number;
}

/**
 * One hop as in LDK's `RouteHop`: the channel `shortChannelId` leads to `nodeId`, which takes
 * `feeMsat` and `cltvExpiryDelta` for the next channel; on the last hop they are the amount and
 * the payee's final delta. A path starts with our own hop (the payer's channel to us).
 */
export interface RouteHop {
  nodeId: string;
  shortChannelId: bigint;
  feeMsat: bigint;
  cltvExpiryDelta: number;
}

export interface LspNode {
  readonly nodeId: string;
  readonly network: Network;
  /**
   * What a JIT invoice needs from us: LSPS2's `lsp_cltv_expiry_delta` (the delta our forward over
   * the new channel takes from the incoming HTLC).
   */
  jitInvoiceParams(): { lspCltvExpiryDelta: number };
  /** A fresh intercept SCID (LDK `get_intercept_scid`). */
  newInterceptScid(): bigint;
  /**
   * The purchase is durable: from now on an HTLC to `purchase.scid` opens a channel to
   * `purchase.nodeId` and forwards the payment minus the opening fee. Later step.
   */
  registerJitScid(purchase: JitPurchaseRecord): Promise<void>;
  listChannels(): LspChannel[];
  listPeers(): { peerId: string; inbound: boolean }[];
  /** LDK's WASM memory in this process (it never shrinks; the instance dies at the limit). */
  wasmMemory(): { usedBytes: number; limitBytes: number } | undefined;
  balances(): Promise<LspBalances>;
  /** When the last chain sync completed (ms since the epoch; survives restarts), if ever. */
  chainSyncedAtMs(): number | undefined;
  /** The tip height the last completed chain sync reached, if ever. */
  chainSyncedHeight(): number | undefined;
  /**
   * Network fees now, for the admin page's confirmations: what closing our usable channels would
   * cost us (cooperative: the closing transactions we fund; force: commitments and sweeps), and the
   * feerate a funding transaction pays.
   */
  feeEstimates(): {
    closeCostMsat: { cooperative: bigint; force: bigint };
    usableChannels: number;
    fundingSatPerKw: number;
  };
  /** The routing fees every channel charges (new channels too). */
  forwardingFees(): ForwardingFees;
  /** Sets the routing fees on every channel and for new ones; returns how many channels changed. */
  setForwardingFees(fees: ForwardingFees): number;
  /** Close cooperatively, or broadcast our latest commitment (`force`). */
  closeChannel(channelId: string, options: { force: boolean }): void;
  /** A BOLT 11 invoice to us (LSPS1 order payments). */
  createInvoice(request: { amountMsat: bigint; description: string; expirySecs: number }): Promise<{
    bolt11: string;
    paymentHash: string;
    expiresAtMs: number;
  }>;
  /** Connect to a public peer at `address` (host:port) and open an outbound channel. */
  openChannel(request: { peerId: string; address: string; capacitySat: bigint; announce: boolean }): Promise<{
    temporaryChannelId: string;
  }>;
  /** Routes on our graph for a wallet that has none, starting with the hop to us. */
  findRoute(request: RouteRequest): Promise<RouteHop[][]>;
}
