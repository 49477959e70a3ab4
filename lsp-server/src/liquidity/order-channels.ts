// LSPS1 fulfilment: when an order's invoice is paid, open the ordered channel to the wallet (once it
// is connected); the order is COMPLETED when the funding is broadcast, FAILED (refund owed, logged
// for the operator) when the channel cannot be opened, FAILED too when its invoice expires unpaid.
// Decisions come from the store and run one at a time, so a restart picks up paid orders without
// opening twice and an expiry never races a payment.
import type { EventOf, LightningNode } from '@lpw/node';
import type { Deps } from '../deps.ts';
import type { OrderRecord } from '../store/types.ts';

export type OrderNode = Pick<LightningNode, 'on' | 'openChannel' | 'isConnected' | 'listChannels'>;

const BLOCK_MS = 600_000;
/** How often unpaid orders are checked for an expired invoice. */
const EXPIRY_SWEEP_MS = 2_000;

export class OrderChannels {
  private readonly deps: Pick<Deps, 'store' | 'clock' | 'log'>;
  private readonly node: OrderNode;
  private readonly offs: Array<() => void> = [];
  private tail: Promise<unknown> = Promise.resolve();
  private sweep: ReturnType<typeof setInterval> | undefined;

  constructor(options: { deps: OrderChannels['deps']; node: OrderNode }) {
    this.deps = options.deps;
    this.node = options.node;
  }

  async start(): Promise<void> {
    this.offs.push(
      this.node.on('payment-received', (e) => this.queue(() => this.paid(e))),
      this.node.on('channel-pending', (e) => this.queue(() => this.pending(e))),
      this.node.on('channel-closed', (e) => this.queue(() => this.closed(e))),
      this.node.on('peer-connected', () => this.queue(() => this.resume())),
    );
    this.queue(() => this.resume());
    this.sweep = setInterval(() => this.queue(() => this.expireUnpaid()), EXPIRY_SWEEP_MS);
    this.sweep.unref?.();
    await this.idle();
  }

  stop(): Promise<void> {
    clearInterval(this.sweep);
    for (const off of this.offs.splice(0)) off();
    return this.idle();
  }

  idle(): Promise<void> {
    return this.tail.then(() => {});
  }

  private queue(work: () => Promise<void>): void {
    this.tail = this.tail
      .then(work)
      .catch((err: unknown) => this.deps.log.error({ err }, 'lsps1: order handler failed'));
  }

  private async paid(e: EventOf<'payment-received'>): Promise<void> {
    const order = await this.deps.store.getOrderByPaymentHash(e.paymentHash);
    if (!order?.body.payment.bolt11) return;
    // an order failed only for its expiry is paid after all (a late HTLC): the channel is owed
    const expiredUnpaid = order.state === 'FAILED' && order.body.payment.bolt11.state === 'EXPECT_PAYMENT';
    if (order.state !== 'CREATED' && !expiredUnpaid) return;
    if (order.body.payment.bolt11.state === 'EXPECT_PAYMENT') {
      const body = {
        ...order.body,
        order_state: 'CREATED' as const,
        payment: { ...order.body.payment, bolt11: { ...order.body.payment.bolt11, state: 'PAID' as const } },
      };
      await this.deps.store.updateOrder(order.orderId, 'CREATED', body, this.deps.clock());
      this.deps.log.info(
        { orderId: order.orderId, amountMsat: e.amountMsat.toString() },
        'lsps1: order paid',
      );
    }
    await this.open(order.orderId);
  }

  /** Unpaid orders past their invoice's expiry are FAILED: the wallet must order again. */
  private async expireUnpaid(): Promise<void> {
    const now = this.deps.clock();
    for (const order of await this.deps.store.listOrdersInState('CREATED')) {
      const bolt11 = order.body.payment.bolt11;
      if (bolt11?.state !== 'EXPECT_PAYMENT' || Date.parse(bolt11.expires_at) > now) continue;
      const body = { ...order.body, order_state: 'FAILED' as const };
      await this.deps.store.updateOrder(order.orderId, 'FAILED', body, now);
      this.deps.log.info({ orderId: order.orderId, nodeId: order.nodeId }, 'lsps1: unpaid order expired');
    }
  }

  /** Paid orders whose channel is not asked for yet (after a restart, or once a wallet connects). */
  private async resume(): Promise<void> {
    for (const order of await this.deps.store.listOrdersInState('CREATED')) {
      if (order.body.payment.bolt11?.state === 'PAID') await this.open(order.orderId);
    }
  }

  private async open(orderId: string): Promise<void> {
    const { store, clock, log } = this.deps;
    const order = await store.getOrder(orderId);
    if (order?.state !== 'CREATED' || order.body.payment.bolt11?.state !== 'PAID') return;
    if (order.userChannelId != null) {
      const live = this.node.listChannels(order.nodeId).some((c) => c.userChannelId === order.userChannelId);
      if (live) return; // opening; channel-pending completes the order
      // an unfunded channel is not persisted by LDK: a restart forgot it, ask again below
    }
    if (!this.node.isConnected(order.nodeId)) return; // peer-connected brings us back
    try {
      const opened = this.node.openChannel({
        peerId: order.nodeId,
        capacitySat: BigInt(order.body.lsp_balance_sat) + BigInt(order.body.client_balance_sat),
        pushMsat: BigInt(order.body.client_balance_sat) * 1000n,
        announce: order.body.announce_channel,
        zeroConf: order.body.required_channel_confirmations === 0,
      });
      await store.setOrderChannel(order.orderId, opened.userChannelId, clock());
      log.info({ orderId, nodeId: order.nodeId }, 'lsps1: opening the ordered channel');
    } catch (err) {
      await this.fail(order, String(err));
    }
  }

  private async pending(e: EventOf<'channel-pending'>): Promise<void> {
    const order = await this.orderOf(e.userChannelId);
    if (order?.state !== 'CREATED') return;
    const now = this.deps.clock();
    const body = {
      ...order.body,
      order_state: 'COMPLETED' as const,
      channel: {
        funded_at: new Date(now).toISOString(),
        funding_outpoint: e.fundingTxo,
        expires_at: new Date(now + order.body.channel_expiry_blocks * BLOCK_MS).toISOString(),
      },
    };
    await this.deps.store.updateOrder(order.orderId, 'COMPLETED', body, now);
    this.deps.log.info({ orderId: order.orderId, fundingTxo: e.fundingTxo }, 'lsps1: order completed');
  }

  private async closed(e: EventOf<'channel-closed'>): Promise<void> {
    const order = await this.orderOf(e.userChannelId);
    if (order?.state === 'CREATED') await this.fail(order, `channel closed before funding: ${e.reason}`);
  }

  private async fail(order: OrderRecord, why: string): Promise<void> {
    const body = { ...order.body, order_state: 'FAILED' as const };
    await this.deps.store.updateOrder(order.orderId, 'FAILED', body, this.deps.clock());
    // the order was paid: the operator owes a refund (LSPS1 leaves the refund path to the LSP)
    this.deps.log.warn(
      {
        orderId: order.orderId,
        nodeId: order.nodeId,
        refundOwedSat: order.body.payment.bolt11?.order_total_sat,
        why,
      },
      'lsps1: order FAILED; refund owed',
    );
  }

  private async orderOf(userChannelId: bigint): Promise<OrderRecord | undefined> {
    for (const order of await this.deps.store.listOrdersInState('CREATED')) {
      if (order.userChannelId === userChannelId) return order;
    }
    return undefined;
  }
}
