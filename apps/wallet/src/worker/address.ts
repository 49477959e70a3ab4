// The wallet's Lightning Address (name@<LSP host>): claimed, changed and released at the LSP, shown in
// the snapshot, and answered for while the node runs: when a payer asks the LSP for an invoice, the
// LSP asks this node over their link and the invoice is made here (receive.ts: in the channel, or
// through a JIT channel within the person's fee limit).
import type { AddressOutput } from '@lpw/api';
import { type LspClient, serveAddressInvoices } from '@lpw/lsp-server/client';
import type { LightningNode } from '@lpw/node';
import type { Receive } from './receive.ts';
import type { Session } from './session.ts';

export class LightningAddress {
  /** Stops answering the running node's invoice requests. */
  private stopServing: (() => void) | undefined;
  /** The most a JIT channel for an address payment may cost (Settings), set by the page. */
  feeCapMsat = 0n;

  constructor(
    private readonly session: Session,
    private readonly receive: Receive,
  ) {}

  /** Answer the LSP's invoice requests on this node, and read the address the LSP holds for us. */
  attach(node: LightningNode, lspNodeId: string, client: LspClient): void {
    this.stopServing?.();
    this.stopServing = serveAddressInvoices({
      node,
      lspNodeId,
      address: async () => this.session.snapshot.snap.lightningAddress ?? (await this.refresh(client)),
      makeInvoice: (order) => this.receive.addressInvoice(order, this.feeCapMsat),
      log: (level, message) => this.session.log(level, message),
    });
    void this.refresh(client).catch((error: unknown) =>
      this.session.log('warn', `lightning address not read: ${(error as Error).message}`),
    );
  }

  detach(): void {
    this.stopServing?.();
    this.stopServing = undefined;
  }

  async claim(name: string): Promise<AddressOutput> {
    const client = this.session.client();
    const claimed = await client.session(() => client.trpc.address.claim.mutate({ name }));
    this.show(claimed.address);
    return claimed;
  }

  async release(): Promise<void> {
    const client = this.session.client();
    await client.session(() => client.trpc.address.release.mutate());
    this.show(undefined);
  }

  private async refresh(client: LspClient): Promise<string | undefined> {
    const held = await client.session(() => client.trpc.address.get.query());
    this.show(held?.address);
    return held?.address;
  }

  private show(address: string | undefined): void {
    this.session.snapshot.snap.lightningAddress = address;
    this.session.snapshot.changed();
  }
}
