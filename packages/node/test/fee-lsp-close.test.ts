// The LSP force-closes during a ×100 spike (test/fee-stack.ts: a wallet behind its LSP, a
// merchant on the LSP), with the wallet's payment to the merchant in flight (held at the LSP) and
// the mempool under load. The LSP's commitment carries the spike's feerate (its own update_fee), so
// it enters the loaded mempool; the merchant claims, and the LSP claims the HTLC on chain with the
// preimage (HTLC-success) well before the HTLC's CLTV expiry; the wallet learns the preimage from the
// chain. The wallet's share (to_remote, static_remote_key) pays its on-chain wallet directly: no
// sweep, no fee. Past the LSP's to_self_delay the LSP sweeps its delayed outputs, and the tree of
// spends from the commitment accounts for every sat. (The wallet's own sweep under load, re-signed
// at a higher fee, is in test/fee-close.test.ts, where the wallet's force close makes it one.)
import { waitUntil } from '@lpw/devnet-chain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FeeStack,
  HOLD_MS,
  holdingScheduler,
  spendTree,
  startFeeStack,
  WALLET_CHANNEL_SAT,
} from './fee-stack.ts';

const SPIKE_SAT_PER_KW = 50_000; // ×100 of the devnet's 2 sat/vB: 200 sat/vB
const LOAD_SAT_PER_VB = 100;

describe('the LSP force-closes during a ×100 spike with an HTLC in flight', () => {
  let stack: FeeStack;
  const hold = holdingScheduler();

  beforeAll(async () => {
    stack = await startFeeStack('fee-lsp-close', {
      lsp: { scheduler: hold, forwardDelayMs: HOLD_MS },
    });
  }, 60_000);
  afterAll(() => stack?.stop());

  it("the HTLC resolves on chain before its expiry, the wallet's share is its coin at once, every sat accounted for", async () => {
    const { wallet, lsp, merchant } = stack.parties;
    const chain = stack.net.devnet.chain;
    stack.weather().spike(100);
    await stack.nextBlock();
    await stack.feerateApplied(SPIKE_SAT_PER_KW);
    chain.mempoolMinFeeRate = LOAD_SAT_PER_VB;

    const channel = wallet.node.listChannels()[0]!;
    const [fundingTxid, fundingVout] = channel.fundingTxo!.split(':') as [string, string];
    const walletBalanceMsat = channel.outboundMsat + channel.ourReserveMsat!;
    const amountMsat = 60_000_000n; // above what is dust at the spike (35,504 sat)
    const invoice = merchant.node.createInvoice({ amountMsat, description: 'in flight', expirySecs: 3600 });
    const paid = wallet.node.payInvoice(invoice.bolt11, { maxFeeMsat: 50_000n, timeoutMs: 300_000 });
    await waitUntil('the HTLC waits at the LSP', () => hold.held() > 0, 10_000);
    const [htlc] = wallet.node.ldk.channelManager.list_channels()[0]!.get_pending_outbound_htlcs();
    const cltvExpiry = htlc!.get_cltv_expiry();

    const lspChannel = lsp.node.listChannels().find((c) => c.peerId === wallet.node.nodeId)!;
    lsp.node.closeChannel(lspChannel.channelId, { force: true });
    await waitUntil(
      'commitment broadcast',
      () => chain.outspend(fundingTxid, Number(fundingVout)) !== undefined,
    );
    const commitment = chain.getTransaction(chain.outspend(fundingTxid, Number(fundingVout))!.txid)!;
    expect(commitment.location).toBeUndefined(); // in the loaded mempool: its own fee is enough
    expect(Number(commitment.fee) / commitment.tx.vsize).toBeGreaterThanOrEqual(LOAD_SAT_PER_VB);
    const htlcVout = commitment.tx.outputs.findIndex((o) => o.value === 60_001n); // + the LSP's 1 sat fee
    expect(htlcVout).toBeGreaterThanOrEqual(0);

    hold.release(); // the LSP forwards; the merchant claims; the LSP holds the preimage
    await merchant.node.waitFor('payment-received', (e) => e.paymentHash === invoice.paymentHash, 20_000);

    // the wallet is away meanwhile: it learns the outcome from the chain when it comes back
    const htlcClaim = () => chain.outspend(commitment.tx.txid, htlcVout);
    for (let blocks = 0; !chain.getTransaction(htlcClaim()?.txid ?? '')?.location; blocks++) {
      if (blocks > 6) throw new Error('the HTLC claim did not confirm');
      await stack.mineAndSync(1, [lsp.node, merchant.node]);
    }
    const claimTx = chain.getTransaction(htlcClaim()!.txid)!;
    expect(claimTx.location!.height).toBeLessThan(cltvExpiry);
    expect(cltvExpiry - claimTx.location!.height).toBeGreaterThan(20); // far from the expiry

    // the wallet syncs: the preimage, from the LSP's claim on chain. Its share on the LSP's
    // commitment (to_remote, static_remote_key) pays its on-chain wallet directly: nothing to sweep,
    // no fee of the wallet's, whatever the load
    await wallet.node.syncChain();
    const sent = await paid;
    expect(sent.amountMsat).toBe(amountMsat);
    const walletShareSat = (walletBalanceMsat - amountMsat - sent.feeMsat) / 1000n; // rounded down on the commitment
    const toRemote = commitment.tx.outputs.filter((o) => wallet.node.onchain.isMine(o.script));
    expect(toRemote.map((o) => o.value)).toEqual([walletShareSat]);
    expect(wallet.node.pendingSweeps()).toEqual([]);

    // the load and the spike pass; past the LSP's to_self_delay its delayed outputs (to_local and
    // the HTLC-success output) are swept into its wallet
    chain.mempoolMinFeeRate = 0;
    stack.weather().crash();
    const delay = lspChannel.toSelfDelay ?? 2016;
    for (let i = 0; i < delay; i += 100) await stack.mineAndSync(Math.min(100, delay - i));
    const owners = {
      wallet: (script: Uint8Array) => wallet.node.onchain.isMine(script),
      lsp: (script: Uint8Array) => lsp.node.onchain.isMine(script),
    };
    const settled = () => {
      const tree = spendTree(chain, commitment.tx.txid, owners);
      return tree.unconfirmed.length === 0 && tree.leaves.every((l) => l.owner !== 'unknown');
    };
    for (let blocks = 0; !settled(); blocks++) {
      if (blocks > 12) throw new Error("the LSP's delayed outputs were not swept");
      await stack.mineAndSync(1);
    }

    // where every sat went: from the commitment to unspent coins of the wallet and the LSP
    const tree = spendTree(chain, commitment.tx.txid, owners);
    expect(tree.unconfirmed).toEqual([]);
    expect(tree.leaves.filter((l) => l.owner === 'unknown')).toEqual([]);
    expect(tree.valueSat + tree.feesSat).toBe(WALLET_CHANNEL_SAT);
    // the wallet: its balance less what it paid, to the sat
    expect(tree.coinsSat('wallet')).toBe(walletShareSat);
    expect(wallet.node.balances().onchainConfirmedMsat).toBe(tree.coinsSat('wallet') * 1000n);
    // the merchant's channel to the LSP stays open
    const [merchantTxid, merchantVout] = stack.fundings[1]!.split(':') as [string, string];
    expect(chain.outspend(merchantTxid, Number(merchantVout))).toBeUndefined();
    expect(merchant.closes).toEqual([]);
  }, 600_000);
});
