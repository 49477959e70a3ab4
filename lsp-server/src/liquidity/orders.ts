// LSPS1 orders: quote and record a channel purchase paid by BOLT 11 invoice. Watching the payment
// and opening the channel is the Lightning step's (it moves order_state to COMPLETED/FAILED).
import { randomUUID } from 'node:crypto';
import { ApiError, type OrdersCreateInput, type OrderWire } from '@lpw/api';
import type { Deps } from '../deps.ts';

export class OrderService {
  constructor(private readonly deps: Pick<Deps, 'store' | 'node' | 'clock' | 'config' | 'log'>) {}

  getInfo() {
    const o = this.deps.config.orders;
    return {
      options: {
        min_required_channel_confirmations: 0,
        min_funding_confirms_within_blocks: 1,
        supports_zero_channel_reserve: false,
        max_channel_expiry_blocks: o.maxChannelExpiryBlocks,
        min_initial_client_balance_sat: '0',
        max_initial_client_balance_sat: String(o.maxClientBalanceSat),
        min_initial_lsp_balance_sat: String(o.minLspBalanceSat),
        max_initial_lsp_balance_sat: String(o.maxLspBalanceSat),
        min_channel_balance_sat: String(o.minLspBalanceSat),
        max_channel_balance_sat: String(o.maxLspBalanceSat + o.maxClientBalanceSat),
      },
    };
  }

  /** LSPS1 fee: base + ceil(lsp_balance_sat × ppm / 1e6), in whole sats. */
  feeSat(lspBalanceSat: bigint): bigint {
    const o = this.deps.config.orders;
    return BigInt(o.baseFeeSat) + (lspBalanceSat * BigInt(o.feePpm) + 999_999n) / 1_000_000n;
  }

  async create(nodeId: string, input: OrdersCreateInput): Promise<OrderWire> {
    const o = this.deps.config.orders;
    const bad = (field: string, why: string) => new ApiError('INVALID_INPUT', `${field} ${why}`, { field });
    if (
      input.lsp_balance_sat < BigInt(o.minLspBalanceSat) ||
      input.lsp_balance_sat > BigInt(o.maxLspBalanceSat)
    ) {
      throw bad('lsp_balance_sat', `must be between ${o.minLspBalanceSat} and ${o.maxLspBalanceSat}`);
    }
    if (input.client_balance_sat > BigInt(o.maxClientBalanceSat)) {
      throw bad('client_balance_sat', `must be at most ${o.maxClientBalanceSat}`);
    }
    if (input.channel_expiry_blocks > o.maxChannelExpiryBlocks) {
      throw bad('channel_expiry_blocks', `must be at most ${o.maxChannelExpiryBlocks}`);
    }
    const now = this.deps.clock();
    const orderId = randomUUID();
    const feeSat = this.feeSat(input.lsp_balance_sat);
    const totalSat = feeSat + input.client_balance_sat;
    const invoice = this.deps.node.createInvoice({
      amountMsat: totalSat * 1000n,
      description: `LSPS1 order ${orderId}`,
      expirySecs: o.invoiceExpirySec,
    });
    const body: OrderWire = {
      order_id: orderId,
      lsp_balance_sat: input.lsp_balance_sat.toString(),
      client_balance_sat: input.client_balance_sat.toString(),
      required_channel_confirmations: input.required_channel_confirmations,
      funding_confirms_within_blocks: input.funding_confirms_within_blocks,
      channel_expiry_blocks: input.channel_expiry_blocks,
      token: input.token ?? '',
      created_at: new Date(now).toISOString(),
      announce_channel: input.announce_channel,
      order_state: 'CREATED',
      payment: {
        bolt11: {
          state: 'EXPECT_PAYMENT',
          expires_at: new Date(invoice.expiresAt).toISOString(),
          fee_total_sat: feeSat.toString(),
          order_total_sat: totalSat.toString(),
          invoice: invoice.bolt11,
        },
        onchain: null,
      },
      channel: null,
    };
    await this.deps.store.insertOrder({
      orderId,
      nodeId,
      state: 'CREATED',
      body,
      paymentHash: invoice.paymentHash,
      createdAtMs: now,
      updatedAtMs: now,
    });
    this.deps.log.info({ nodeId, orderId, totalSat: totalSat.toString() }, 'lsps1 order created');
    return body;
  }

  async get(nodeId: string, orderId: string): Promise<OrderWire> {
    const order = await this.deps.store.getOrder(orderId);
    if (!order || order.nodeId !== nodeId) throw new ApiError('NOT_FOUND', 'no such order');
    return order.body;
  }

  async list(nodeId: string) {
    return { orders: (await this.deps.store.listOrders(nodeId)).map((o) => o.body) };
  }
}
