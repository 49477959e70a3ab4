// LspNode over a running packages/node LightningNode (role 'lsp'). JIT interception itself lives in
// liquidity/jit-channels.ts (it listens to the node); routes are found here on the node's graph.
import { ApiError } from '@lpw/api';
import type { Connector, LightningNode } from '@lpw/node';
import type { JitPurchaseRecord } from '../store/types.ts';
import type { LspBalances, LspNode } from './lsp-node.ts';
import { routeFinder } from './routes.ts';

export interface LdkLspNodeOptions {
  lspCltvExpiryDelta: number;
  /** Dials host:port (e.g. `tcp` from @lpw/node/tcp). */
  dial?: (host: string, port: number) => Connector;
  onchainBalanceSat?: () => Promise<bigint>;
  onJitScid?: (purchase: JitPurchaseRecord) => Promise<void>;
}

export function ldkLspNode(node: LightningNode, options: LdkLspNodeOptions): LspNode {
  const findRoute = routeFinder(node);
  return {
    nodeId: node.nodeId,
    network: node.network,
    jitInvoiceParams: () => ({ lspCltvExpiryDelta: options.lspCltvExpiryDelta }),
    newInterceptScid: () => node.newInterceptScid(),
    async registerJitScid(purchase) {
      await options.onJitScid?.(purchase);
    },
    listChannels: () =>
      node.listChannels().map((c) => ({
        channelId: c.channelId,
        peerId: c.peerId,
        capacityMsat: c.capacityMsat,
        outboundMsat: c.outboundMsat,
        inboundMsat: c.inboundMsat,
        isUsable: c.isUsable,
        isAnnounced: c.isAnnounced,
        shortChannelId: c.shortChannelId,
      })),
    listPeers: () => node.listPeers(),
    wasmMemory: () => node.wasmMemory(),
    chainSyncedAtMs: () => node.chainWatch().lastSyncAtMs,
    chainSyncedHeight: () => node.chainWatch().lastSyncHeight,
    forwardingFees: () => node.forwardingFees(),
    setForwardingFees: (fees) => node.setForwardingFees(fees),
    closeChannel: (channelId, { force }) => node.closeChannel(channelId, { force }),
    feeEstimates() {
      const weather = node.feeWeather();
      return {
        closeCostMsat: weather.closeCostMsat,
        usableChannels: node.listChannels().filter((c) => c.isUsable).length,
        fundingSatPerKw: weather.commitmentSatPerKw,
      };
    },
    async balances(): Promise<LspBalances> {
      const b = node.balances();
      return {
        onchainSat: (await options.onchainBalanceSat?.()) ?? 0n,
        lightningOutboundMsat: b.lightningOutboundMsat,
        lightningInboundMsat: b.lightningInboundMsat,
      };
    },
    async createInvoice(request) {
      const inv = node.createInvoice(request);
      return { bolt11: inv.bolt11, paymentHash: inv.paymentHash, expiresAtMs: inv.expiresAt };
    },
    async openChannel(request) {
      const m = /^(.+):(\d{1,5})$/.exec(request.address);
      if (!m) throw new ApiError('INVALID_INPUT', 'address must be host:port');
      if (!options.dial) throw new ApiError('NOT_IMPLEMENTED', 'this node cannot dial peers');
      await node.connect(request.peerId, options.dial(m[1]!, Number(m[2])));
      const opened = node.openChannel({
        peerId: request.peerId,
        capacitySat: request.capacitySat,
        announce: request.announce,
      });
      return { temporaryChannelId: opened.temporaryChannelId };
    },
    async findRoute(request) {
      return findRoute(request);
    },
  };
}
