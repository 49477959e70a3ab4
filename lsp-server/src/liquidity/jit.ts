// LSPS2 service side up to the channel: offer the fee menu, accept a purchase under a fresh intercept
// SCID, stored before it is returned. Opening the channel when the HTLC arrives is jit-channels.ts's.
import {
  ApiError,
  checkBuy,
  feeParamsToWire,
  formatScid,
  type JitBuyInput,
  type JitBuyOutput,
  parseScid,
} from '@lpw/api';
import type { Deps } from '../deps.ts';
import type { JitPurchaseRecord } from '../store/types.ts';
import { feeMenu } from './fees.ts';

const purchaseWire = (p: JitPurchaseRecord) => ({
  jit_channel_scid: formatScid(p.scid),
  opening_fee_params: feeParamsToWire(p.params),
  payment_size_msat: p.paymentSizeMsat?.toString() ?? null,
  state: p.state,
  created_at: new Date(p.createdAtMs).toISOString(),
});

export class JitService {
  constructor(
    private readonly deps: Pick<Deps, 'store' | 'node' | 'clock' | 'config' | 'secrets' | 'metrics' | 'log'>,
  ) {}

  getInfo(token: string | undefined) {
    const tokens = this.deps.config.jitTokens;
    if (tokens.length > 0 && (token === undefined || !tokens.includes(token))) {
      throw new ApiError('UNRECOGNIZED_OR_STALE_TOKEN', 'this LSP requires a valid token');
    }
    const menu = feeMenu(this.deps.config.fee, this.deps.secrets.promise, this.deps.clock());
    return { opening_fee_params_menu: menu.map(feeParamsToWire) };
  }

  async buy(nodeId: string, input: JitBuyInput): Promise<JitBuyOutput> {
    const now = this.deps.clock();
    const { openingFeeMsat } = checkBuy(
      input.opening_fee_params,
      input.payment_size_msat,
      this.deps.secrets.promise,
      now,
    );
    const scid = await this.unusedInterceptScid();
    const purchase: JitPurchaseRecord = {
      scid,
      nodeId,
      params: input.opening_fee_params,
      paymentSizeMsat: input.payment_size_msat ?? null,
      openingFeeMsat: openingFeeMsat ?? null,
      state: 'PENDING',
      createdAtMs: now,
      updatedAtMs: now,
    };
    await this.deps.store.insertJitPurchase(purchase);
    this.deps.metrics.jitBuys.inc();
    this.deps.log.info({ nodeId, scid: formatScid(scid) }, 'jit purchase');
    return {
      jit_channel_scid: formatScid(scid),
      lsp_cltv_expiry_delta: this.deps.config.fee.lspCltvExpiryDelta,
      client_trusts_lsp: false,
    };
  }

  /**
   * A fake scid no purchase holds yet. LDK draws them at random from block heights × 2,500 tx
   * positions and checks them only against real channels: on a young chain (the devnet) the space is
   * small enough that a stored purchase's scid came back (a bench run in three failed on it with a
   * 500), and two purchases on one scid would hand one wallet's payment to the other's channel.
   */
  private async unusedInterceptScid(): Promise<bigint> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const scid = this.deps.node.newInterceptScid();
      if (!(await this.deps.store.getJitPurchase(scid))) return scid;
    }
    throw new ApiError('INTERNAL', 'no unused intercept scid in 8 draws');
  }

  async list(nodeId: string) {
    return { purchases: (await this.deps.store.listJitPurchases(nodeId)).map(purchaseWire) };
  }

  async get(nodeId: string, scidText: string) {
    let scid: bigint;
    try {
      scid = parseScid(scidText);
    } catch {
      throw new ApiError('INVALID_INPUT', 'jit_channel_scid is not a valid NxNxN');
    }
    const p = await this.deps.store.getJitPurchase(scid);
    // another wallet's purchase looks exactly like a missing one
    if (!p || p.nodeId !== nodeId) throw new ApiError('NOT_FOUND', 'no such purchase');
    return purchaseWire(p);
  }
}
