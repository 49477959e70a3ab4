// Lightning Addresses on the devnet, paid by a third-party LNURL client (the `lnurl-pay` package, with
// its own invoice checks on: amount, and description hash = sha256(metadata)): the LSP asks the
// wallet's node for the invoice over their BOLT 8 link. A wallet with no channel gets one just in
// time; then one in the channel. Names taken or badly formed, amounts and comments out of bounds,
// wallets that lie, and wallets that are closed or silent, each refused with a clear LNURL error.
// One store backend: the name registry itself is tested on both in store.test.ts.
import {
  ADDRESS_INVOICE_MESSAGE_TYPE,
  addressInvoiceRequest,
  addressMetadata,
  RECIPIENT_OFFLINE_REASON,
  readAddressMessage,
  writeAddressMessage,
} from '@lpw/api';
import { waitUntil } from '@lpw/devnet';
import type { LightningNode } from '@lpw/node';
import { parseLightningAddress } from '@lpw/payment-request';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { bech32 } from '@scure/base';
import { TRPCClientError } from '@trpc/client';
import { requestInvoice, requestPayServiceParams } from 'lnurl-pay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AddressInvoiceOrder,
  AddressRefusal,
  type LspClient,
  serveAddressInvoices,
} from '../src/client/index.ts';
import { type Stack, startStack } from './lightning.ts';
import { backends } from './stores.ts';

const appCode = (e: unknown) =>
  e instanceof TRPCClientError ? (e.data as { app?: { code: string } }).app?.code : String(e);

/**
 * The LUD-01 `lnurl1…` of an address's LUD-16 URL. Third-party clients read only internet domains
 * as addresses (no `host:port`), so the devnet's loopback address reaches them in this form.
 */
function lnurlOf(address: string): string {
  const url = parseLightningAddress(address)!.url;
  return bech32.encode('lnurl', bech32.toWords(new TextEncoder().encode(url)), 2000);
}

/** What a wallet does when asked (apps/wallet's worker does the same with the person's fee limit). */
function walletMaker(node: LightningNode, client: LspClient) {
  return async (order: AddressInvoiceOrder): Promise<string> => {
    const description = order.comment ?? 'Lightning Address payment';
    const room = node
      .listChannels()
      .filter((c) => c.isUsable)
      .some((c) => c.inboundMsat >= order.amountMsat);
    if (room) {
      return node.createInvoice({
        amountMsat: order.amountMsat,
        description: order.metadata,
        hashDescription: true,
        recordDescription: description,
        expirySecs: 600,
      }).bolt11;
    }
    const jit = await client.receiveJit(node, {
      amountMsat: order.amountMsat,
      description,
      descriptionHash: order.descriptionHash,
      expirySecs: 600,
    });
    return jit.bolt11;
  };
}

const [sqlite] = backends();

describe('Lightning Addresses served by the LSP, paid with a third-party LNURL client', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack(sqlite!, { ADDRESS_INVOICE_TIMEOUT_MS: '3000' }, 'lnaddr');
  }, 120_000);
  afterAll(() => s?.stop(), 60_000);

  /** A wallet that answers for its address as our wallet does, with `maker` instead when given. */
  async function wallet(
    seedByte: number,
    maker?: (node: LightningNode, order: AddressInvoiceOrder) => Promise<string>,
  ) {
    const w = await s.wallet(seedByte);
    const address = async () => (await w.client.session(() => w.client.trpc.address.get.query()))?.address;
    const stop = serveAddressInvoices({
      node: w.node,
      lspNodeId: s.lsp.nodeId,
      address,
      makeInvoice: maker ? (order) => maker(w.node, order) : walletMaker(w.node, w.client),
    });
    const claim = (name: string) => w.client.session(() => w.client.trpc.address.claim.mutate({ name }));
    return { ...w, claim, stop };
  }

  let alice: Awaited<ReturnType<typeof wallet>>;
  let aliceAddress: string;

  it('a new wallet claims a name; a payer with lnurl-pay pays it; the first payment opens its channel', async () => {
    alice = await wallet(0x41);
    const claimed = await alice.claim('alice');
    const host = new URL(s.server.url).host;
    aliceAddress = `alice@${host}`;
    expect(claimed).toEqual({ name: 'alice', address: aliceAddress });
    expect(await alice.client.trpc.address.get.query()).toEqual(claimed);

    // LUD-06 / LUD-16 as the third-party client reads it
    const params = await requestPayServiceParams({ lnUrlOrAddress: lnurlOf(aliceAddress) });
    expect(params.identifier).toBe(aliceAddress);
    expect(params.metadataHash).toBe(
      bytesToHex(sha256(new TextEncoder().encode(addressMetadata(aliceAddress)))),
    );
    expect(params.commentAllowed).toBe(140);
    // no channel yet: the LSP's JIT range (JIT_MIN_PAYMENT_MSAT … JIT_MAX_PAYMENT_MSAT)
    expect([params.min, params.max]).toEqual([10_000, 10_000_000]);

    const amountSat = 200_000;
    const got = await requestInvoice({
      lnUrlOrAddress: lnurlOf(aliceAddress),
      tokens: amountSat as never,
      comment: 'for the pizza',
      validateInvoice: true,
    });
    expect(got.hasValidAmount && got.hasValidDescriptionHash).toBe(true);
    const received = alice.node.waitFor('payment-received', () => true, 60_000);
    await s.net.router.node.payInvoice(got.invoice, { timeoutMs: 60_000 });
    const payment = await received;
    // through a JIT channel: amount less the opening fee (2,000 sat minimum at this size)
    expect(payment.amountMsat).toBe(BigInt(amountSat) * 1000n - 2_000_000n);
    expect(alice.node.listChannels()).toHaveLength(1);
    const record = alice.node.listPayments().find((p) => p.paymentHash === payment.paymentHash);
    expect(record?.description).toBe('for the pizza');
  }, 120_000);

  it('with a channel, a small payment lands in it, from 1 sat', async () => {
    const params = await requestPayServiceParams({ lnUrlOrAddress: lnurlOf(aliceAddress) });
    expect(params.min).toBe(1);
    const got = await requestInvoice({
      lnUrlOrAddress: lnurlOf(aliceAddress),
      tokens: 1_500 as never,
      validateInvoice: true,
    });
    const received = alice.node.waitFor('payment-received', () => true, 60_000);
    await s.net.router.node.payInvoice(got.invoice, { timeoutMs: 60_000 });
    expect((await received).amountMsat).toBe(1_500_000n);
    expect(alice.node.listChannels()).toHaveLength(1);
  }, 120_000);

  it('a taken name and names outside LUD-16 are refused with typed errors, and change nothing', async () => {
    const bob = await wallet(0x42);
    await expect(bob.claim('alice')).rejects.toSatisfy((e) => appCode(e) === 'NAME_TAKEN');
    for (const bad of ['Alice', 'al ice', 'alice@x', 'ä', '', 'x'.repeat(65)])
      await expect(bob.claim(bad), bad).rejects.toSatisfy((e) => appCode(e) === 'INVALID_INPUT');
    expect(await s.store.addressNameOf(bob.node.nodeId)).toBeUndefined();
    expect((await s.store.getAddressName('alice'))?.nodeId).toBe(alice.node.nodeId);
    // a name is changed by claiming another, which frees the old one
    expect((await bob.claim('bob.b-_1')).address).toMatch(/^bob\.b-_1@/);
    expect((await bob.claim('bobby')).name).toBe('bobby');
    expect(await s.store.getAddressName('bob.b-_1')).toBeUndefined();
    expect(await bob.client.trpc.address.release.mutate()).toEqual({ released: true });
    expect(await bob.client.trpc.address.get.query()).toBeNull();
    const gone = await fetch(`${s.server.url}/.well-known/lnurlp/bobby`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ status: 'ERROR' });
    await bob.node.stop();
  }, 60_000);

  it('the LSP refuses amounts outside min/max and comments over commentAllowed, asking the wallet nothing', async () => {
    const first = await fetch(`${s.server.url}/.well-known/lnurlp/alice`, {
      headers: { origin: 'https://payer.example' },
    });
    expect(first.headers.get('access-control-allow-origin')).toBe('*');
    const { callback } = (await first.json()) as { callback: string };
    const ask = async (query: string) => (await fetch(`${callback}?${query}`)).json();
    const before = alice.node.listPayments().length;
    expect(await ask('amount=999')).toMatchObject({
      status: 'ERROR',
      reason: expect.stringMatching(/amount/),
    });
    expect(await ask('amount=10000000001')).toMatchObject({ status: 'ERROR' });
    expect(await ask('amount=abc')).toMatchObject({ status: 'ERROR' });
    expect(await ask(`amount=5000&comment=${'x'.repeat(141)}`)).toMatchObject({
      status: 'ERROR',
      reason: expect.stringMatching(/comment/),
    });
    // the client refuses the same before asking
    await expect(
      requestInvoice({ lnUrlOrAddress: lnurlOf(aliceAddress), tokens: 10_000_001 as never }),
    ).rejects.toThrow(/Invalid amount/);
    expect(alice.node.listPayments().length).toBe(before);
  }, 60_000);

  it('a wallet that lies about the amount, the hash or the payee gets its payer an error, not the invoice', async () => {
    const other = await s.wallet(0x44);
    const lies: Array<[string, (node: LightningNode, order: AddressInvoiceOrder) => Promise<string>]> = [
      [
        'amount',
        async (node, o) =>
          node.createInvoice({
            amountMsat: o.amountMsat + 1n,
            description: o.metadata,
            hashDescription: true,
            expirySecs: 600,
          }).bolt11,
      ],
      [
        'hash',
        async (node, o) =>
          node.createInvoice({
            amountMsat: o.amountMsat,
            description: `${o.metadata} `,
            hashDescription: true,
            expirySecs: 600,
          }).bolt11,
      ],
      // another node's invoice, right in every other way: the payer would pay someone else
      [
        'payee',
        async (_node, o) =>
          other.node.createInvoice({
            amountMsat: o.amountMsat,
            description: o.metadata,
            hashDescription: true,
            expirySecs: 600,
          }).bolt11,
      ],
    ];
    let byte = 0x50;
    for (const [what, lie] of lies) {
      // not our code (serveAddressInvoices checks its own invoice): it answers whatever it likes
      const liar = await s.wallet(byte++);
      liar.node.customMessages.onMessage(ADDRESS_INVOICE_MESSAGE_TYPE, (peerId, payload) => {
        const asked = readAddressMessage(addressInvoiceRequest, payload)!;
        const order = {
          amountMsat: BigInt(asked.amount_msat),
          metadata: asked.metadata,
          descriptionHash: '',
          comment: undefined,
        };
        void lie(liar.node, order).then((bolt11) =>
          liar.node.customMessages.send(
            peerId,
            ADDRESS_INVOICE_MESSAGE_TYPE,
            writeAddressMessage({ id: asked.id, bolt11 }),
          ),
        );
      });
      const name = `liar-${what}`;
      await liar.client.trpc.address.claim.mutate({ name });
      await expect(
        requestInvoice({
          lnUrlOrAddress: lnurlOf(`${name}@${new URL(s.server.url).host}`),
          tokens: 20_000 as never,
        }),
        what,
      ).rejects.toThrow(/invalid invoice/);
      await liar.node.stop();
    }
    // another wallet that learned a request's id (here: handed it by the test) cannot answer for the
    // address's wallet: its refusal is dropped, and the owner's later invoice reaches the payer
    const owner = await s.wallet(0x58);
    const mallory = await s.wallet(0x59);
    owner.node.customMessages.onMessage(ADDRESS_INVOICE_MESSAGE_TYPE, (peerId, payload) => {
      const asked = readAddressMessage(addressInvoiceRequest, payload)!;
      mallory.node.customMessages.send(
        peerId,
        ADDRESS_INVOICE_MESSAGE_TYPE,
        writeAddressMessage({ id: asked.id, error: { code: 'FAILED', message: 'not today' } }),
      );
      const bolt11 = owner.node.createInvoice({
        amountMsat: BigInt(asked.amount_msat),
        description: asked.metadata,
        hashDescription: true,
        expirySecs: 600,
      }).bolt11;
      setTimeout(
        () =>
          owner.node.customMessages.send(
            peerId,
            ADDRESS_INVOICE_MESSAGE_TYPE,
            writeAddressMessage({ id: asked.id, bolt11 }),
          ),
        500,
      );
    });
    await owner.client.trpc.address.claim.mutate({ name: 'owner' });
    const paid = await requestInvoice({
      lnUrlOrAddress: lnurlOf(`owner@${new URL(s.server.url).host}`),
      tokens: 20_000 as never,
      validateInvoice: true,
    });
    expect(paid.hasValidDescriptionHash).toBe(true);
    await owner.node.stop();
    await mallory.node.stop();

    // and a wallet's own refusal reaches the payer in the LSP's words
    const refuser = await wallet(0x60, async () => {
      throw new AddressRefusal('FEE_ABOVE_CAP', 'above my limit of 1 sat');
    });
    await refuser.claim('refuser');
    await expect(
      requestInvoice({
        lnUrlOrAddress: lnurlOf(`refuser@${new URL(s.server.url).host}`),
        tokens: 20_000 as never,
      }),
    ).rejects.toThrow(/costs more than they allow/);
    await refuser.node.stop();
    await other.node.stop();
  }, 120_000);

  it('a closed wallet: the payer hears "recipient offline" at once; a silent one, within the timeout', async () => {
    const host = new URL(s.server.url).host;
    // a wallet that is connected but never answers (an old app): ADDRESS_INVOICE_TIMEOUT_MS, 3 s here
    const silent = await s.wallet(0x70);
    await silent.client.trpc.address.claim.mutate({ name: 'silent' });
    let started = Date.now();
    await expect(
      requestInvoice({ lnUrlOrAddress: lnurlOf(`silent@${host}`), tokens: 20_000 as never }),
    ).rejects.toThrow(RECIPIENT_OFFLINE_REASON);
    const waitedMs = Date.now() - started;
    expect(waitedMs).toBeGreaterThanOrEqual(3_000);
    expect(waitedMs).toBeLessThan(8_000);

    // closed: once the LSP sees the link gone (a dropped phone's is found by the timeout above), it
    // says so without asking
    await silent.node.stop();
    await waitUntil('the LSP sees the wallet gone', () => !s.lsp.isConnected(silent.node.nodeId), 10_000);
    started = Date.now();
    const first = await (await fetch(`${s.server.url}/.well-known/lnurlp/silent`)).json();
    expect(first).toEqual({ status: 'ERROR', reason: RECIPIENT_OFFLINE_REASON });
    const callback = await (
      await fetch(`${s.server.url}/.well-known/lnurlp/silent/callback?amount=20000000`)
    ).json();
    expect(callback).toEqual({ status: 'ERROR', reason: RECIPIENT_OFFLINE_REASON });
    expect(Date.now() - started).toBeLessThan(1_000);
  }, 60_000);
});
