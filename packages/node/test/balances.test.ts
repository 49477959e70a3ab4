// Balances are exact at every block: a wallet-role node behind an LSP-role node (real LDK on the
// devnet) goes through every way a channel ends, and after each block (and each broadcast) its
// total is checked against ground truth taken from the devnet itself: the coins in the UTXO set
// (mempool included) paying the wallet's scripts, the outputs of closing transactions (and of
// their claims) that only the wallet can spend, and the open channels' own state. Never more,
// and exactly that once the chain says it.
import { type Tx, waitUntil } from '@lpw/devnet-chain';
import { hex } from '@scure/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Balances, LightningNode } from '../src/node.ts';
import { MemoryStore } from '../src/persist/memory.ts';
import { inMemory } from '../src/transport/memory.ts';
import { heldHtlc, type TestNet, testNet } from './harness.ts';

const CAPACITY_SAT = 1_000_000n;
const PUSH_MSAT = 300_000_000n;

/** Every bucket that is the wallet's money, once. */
const total = (b: Balances): bigint => b.totalMsat;

/**
 * How a closing transaction's outputs are owned: `p2wsh` when every P2WSH output of it (and of
 * the claims spending those) is the wallet's — its own commitment (to_local after the CSV wait,
 * HTLCs it offered after their timeout) or the LSP's revoked one; `none` when only outputs paying
 * the wallet's scripts are (a cooperative close, the LSP's current commitment).
 */
type Ownership = 'p2wsh' | 'none';

interface Check {
  label: string;
  totalMsat: bigint;
  truthMsat: bigint;
}

const isP2wsh = (script: Uint8Array) => script.length === 34 && script[0] === 0 && script[1] === 0x20;

describe('balances: every bucket, every block, against the chain', () => {
  let net: TestNet;
  let lsp: LightningNode;
  let lspStore: MemoryStore;
  const overstatement = { msat: 0n, where: '' };

  beforeAll(async () => {
    net = await testNet('balances-tests');
    lspStore = new MemoryStore();
    lsp = (await net.make('lsp', 0x15, { role: 'lsp', store: lspStore, logLevel: 'warn' })).node;
    for (let i = 0; i < 8; i++) net.devnet.fund(await lsp.newAddress(), 1_500_000n, { confirmations: 1 });
    await lsp.syncChain();
  }, 30_000);

  afterAll(async () => {
    console.log(`largest overstatement: ${overstatement.msat} msat (${overstatement.where})`);
    await lsp?.stop();
    await net?.stop();
  });

  /**
   * What a wallet really owns or is owed, from the devnet and its channels' state. `scanned`: the
   * wallet scripts paid in each block (by hash) for this one wallet, so a check scans only new
   * blocks. (Shared between wallets, a block scanned for one hid the other's coins: a case that ran
   * past its timeout went on beside the next one, and its sweep coin was missed by the truth.)
   */
  function groundTruthMsat(
    node: LightningNode,
    closes: { fundingTxo: string; ownership: Ownership }[],
    scanned = new Map<string, Uint8Array[]>(),
  ) {
    const chain = net.devnet.chain;
    // coins paying the wallet's scripts: scan every transaction (blocks and mempool) for them
    const scripts = new Map<string, Uint8Array>();
    const paid = (txs: Tx[]) =>
      txs.flatMap((tx) => tx.outputs.filter((o) => node.onchain.isMine(o.script)).map((o) => o.script));
    for (let h = 0; h <= chain.tipHeight; h++) {
      const block = chain.getBlock(h)!;
      const found = scanned.get(block.hash) ?? paid(block.txs);
      scanned.set(block.hash, found);
      for (const script of found) scripts.set(hex.encode(script), script);
    }
    for (const script of paid(chain.mempool.ordered().map((e) => e.tx)))
      scripts.set(hex.encode(script), script);
    let sat = 0n;
    for (const script of scripts.values())
      for (const coin of chain.unspentFor(script, true)) sat += coin.value;
    // closing transactions: P2WSH outputs the wallet alone can spend, followed through their claims
    for (const close of closes) {
      if (close.ownership === 'none') continue;
      const [fundingTxid, fundingVout] = close.fundingTxo.split(':');
      const spend = chain.outspend(fundingTxid!, Number(fundingVout));
      if (!spend) continue;
      const walk = (txid: string) => {
        const tx = chain.getTransaction(txid)!.tx;
        tx.outputs.forEach((o, vout) => {
          if (!isP2wsh(o.script)) return;
          const next = chain.outspend(txid, vout);
          if (next) walk(next.txid);
          else sat += o.value;
        });
      };
      walk(spend.txid);
    }
    let msat = sat * 1000n;
    // open channels: what a close pays now (our balance, whole sats) and outbound HTLCs not resolved
    for (const c of node.ldk.channelManager.list_channels()) {
      const outbound = c.get_outbound_capacity_msat();
      const reserve = c.get_unspendable_punishment_reserve() as { some?: bigint };
      if (outbound > 0n) msat += ((outbound + (reserve.some ?? 0n) * 1000n) / 1000n) * 1000n;
      for (const h of c.get_pending_outbound_htlcs()) msat += h.get_amount_msat();
    }
    return msat;
  }

  /** `signal`: the case's own (aborted at its timeout), so a case that overran stops mining beside the next. */
  function checker(
    signal: AbortSignal,
    name: string,
    node: () => LightningNode,
    closes: { fundingTxo: string; ownership: Ownership }[],
  ) {
    const checks: Check[] = [];
    const scanned = new Map<string, Uint8Array[]>();
    const check = (label: string): Check => {
      const b = node().balances();
      const c = {
        label: `${name}: ${label}`,
        totalMsat: total(b),
        truthMsat: groundTruthMsat(node(), closes, scanned),
      };
      checks.push(c);
      const over = c.totalMsat - c.truthMsat;
      if (over > overstatement.msat) {
        overstatement.msat = over;
        overstatement.where = c.label;
      }
      return c;
    };
    /** Mine one block at a time, syncing the LSP and the wallet, checking after each. */
    const mine = async (n: number, label: string) => {
      for (let i = 0; i < n; i++) {
        signal.throwIfAborted();
        await net.mine(1, [lsp, node()]);
        check(`${label} +${i + 1}`);
      }
    };
    const report = () => {
      const worst = checks.reduce((w, c) => (c.totalMsat - c.truthMsat > w.totalMsat - w.truthMsat ? c : w));
      console.log(
        `${name}: ${checks.length} checks, largest overstatement ${worst.totalMsat - worst.truthMsat} msat at "${worst.label}"`,
      );
      const wrong = checks.filter((c) => c.totalMsat !== c.truthMsat);
      expect(wrong.map((c) => `${c.label}: ${c.totalMsat} vs ${c.truthMsat}`)).toEqual([]);
    };
    return { check, mine, report, checks };
  }

  /** A wallet with a channel the LSP opened (0-conf, trusted), pushing `PUSH_MSAT` to it. */
  async function walletWithChannel(seedByte: number, store = new MemoryStore()) {
    const { node } = await net.make(`wallet-${seedByte.toString(16)}`, seedByte, {
      role: 'wallet',
      store,
      trustedPeers: [lsp.nodeId],
    });
    await node.connect(lsp.nodeId, inMemory(lsp));
    const ready = node.waitFor('channel-ready', (e) => e.peerId === lsp.nodeId, 15_000);
    lsp.openChannel({ peerId: node.nodeId, capacitySat: CAPACITY_SAT, pushMsat: PUSH_MSAT });
    const { channelId } = await ready;
    const channel = () => node.listChannels().find((c) => c.channelId === channelId);
    await waitUntil('usable (0-conf)', () => channel()?.isUsable === true);
    return { node, store, channelId, fundingTxo: channel()!.fundingTxo! };
  }

  /** The transaction spending `fundingTxo`, once it is in the mempool. */
  async function closingTx(fundingTxo: string): Promise<Tx> {
    const [txid, vout] = fundingTxo.split(':');
    await waitUntil('closing tx', () => net.devnet.chain.outspend(txid!, Number(vout)) !== undefined, 20_000);
    return net.devnet.chain.getTransaction(net.devnet.chain.outspend(txid!, Number(vout))!.txid)!.tx;
  }

  it('a JIT-like open: a 0-conf channel from the LSP with a push, exact from before its first confirmation', async ({
    signal,
  }) => {
    const { node } = await net.make('wallet-jit', 0xa1, { role: 'wallet', trustedPeers: [lsp.nodeId] });
    const { check, mine, report } = checker(signal, '0-conf open', () => node, []);
    check('no channel');
    await node.connect(lsp.nodeId, inMemory(lsp));
    const ready = node.waitFor('channel-ready', (e) => e.peerId === lsp.nodeId, 15_000);
    lsp.openChannel({ peerId: node.nodeId, capacitySat: CAPACITY_SAT, pushMsat: PUSH_MSAT });
    await ready;
    await waitUntil('usable (0-conf)', () => node.listChannels()[0]?.isUsable === true);
    check('usable, unconfirmed');
    expect(total(node.balances())).toBe(PUSH_MSAT);
    await mine(7, 'open');
    // a payment in: the balance follows to the msat
    const invoice = node.createInvoice({ amountMsat: 12_345_678n, description: 'in', expirySecs: 600 });
    await lsp.payInvoice(invoice.bolt11);
    // the channel's state settles (our commitment signed): what a close pays grows by the whole sats
    await waitUntil('received', () => groundTruthMsat(node, []) === PUSH_MSAT + 12_345_000n);
    check('after a payment in');
    report();
    await node.stop();
  }, 180_000);

  it('cooperative close: counted once while the close is in the mempool and at every block after', async ({
    signal,
  }) => {
    const w = await walletWithChannel(0xa2);
    const { check, mine, report } = checker(signal, 'cooperative close', () => w.node, [
      { fundingTxo: w.fundingTxo, ownership: 'none' },
    ]);
    await mine(3, 'open');
    const closed = w.node.waitFor('channel-closed', (e) => e.channelId === w.channelId, 20_000);
    w.node.closeChannel(w.channelId);
    await closed;
    await closingTx(w.fundingTxo);
    await w.node.syncChain();
    check('close in the mempool');
    await mine(8, 'close');
    expect(total(w.node.balances())).toBe(PUSH_MSAT);
    report();
    await w.node.stop();
  }, 180_000);

  it('force close by the LSP: the to_remote output is a wallet coin, counted once', async ({ signal }) => {
    const w = await walletWithChannel(0xa3);
    const { check, mine, report } = checker(signal, 'LSP force close', () => w.node, [
      { fundingTxo: w.fundingTxo, ownership: 'none' },
    ]);
    await mine(2, 'open');
    lsp.closeChannel(w.channelId, { force: true });
    await closingTx(w.fundingTxo);
    await w.node.syncChain();
    check('commitment in the mempool');
    await mine(8, 'close');
    expect(total(w.node.balances())).toBe(PUSH_MSAT);
    report();
    await w.node.stop();
  }, 180_000);

  it('force close by the wallet: CSV wait with its countdown, the sweep, its fee accounted', async ({
    signal,
  }) => {
    const w = await walletWithChannel(0xa4);
    const { check, mine, report } = checker(signal, 'wallet force close', () => w.node, [
      { fundingTxo: w.fundingTxo, ownership: 'p2wsh' },
    ]);
    await mine(2, 'open');
    const toSelfDelay = w.node.listChannels()[0]!.toSelfDelay!;
    w.node.closeChannel(w.channelId, { force: true });
    const commitment = await closingTx(w.fundingTxo);
    await w.node.syncChain();
    check('commitment in the mempool');
    await mine(1, 'commitment');
    const waiting = w.node.balances().claims;
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatchObject({ kind: 'awaiting-confirmations', blocksLeft: toSelfDelay - 1 });
    await mine(toSelfDelay + 2, 'CSV');
    const sweepTx = () =>
      net.devnet.chain.outspend(
        commitment.txid,
        commitment.outputs.findIndex((o) => isP2wsh(o.script)),
      );
    await waitUntil('sweep broadcast', () => sweepTx() !== undefined, 20_000);
    await w.node.syncChain();
    check('sweep in the mempool');
    await mine(8, 'sweep');
    const sweepFee = net.devnet.chain.getTransaction(sweepTx()!.txid)!.fee;
    expect(total(w.node.balances())).toBe(PUSH_MSAT - sweepFee * 1000n);
    expect(w.node.balances().claims).toEqual([]);
    report();
    await w.node.stop();
  }, 600_000);

  it('a close with an HTLC in flight: the HTLC times out on chain back to the wallet, exact all along', async ({
    signal,
  }) => {
    const w = await walletWithChannel(0xa5);
    const { check, mine, report } = checker(signal, 'close with HTLC in flight', () => w.node, [
      { fundingTxo: w.fundingTxo, ownership: 'p2wsh' },
    ]);
    await mine(2, 'open');
    const { paying } = await heldHtlc(lsp, w.node, 40_000_000n);
    check('HTLC in flight');
    expect(w.node.balances().inFlightMsat).toBe(40_000_000n);
    w.node.closeChannel(w.channelId, { force: true });
    await closingTx(w.fundingTxo);
    await w.node.syncChain();
    check('commitment in the mempool');
    // the HTLC's expiry (~150 blocks), its timeout claim, then the CSV on both outputs and the sweeps
    const toSelfDelay = 144;
    // what the wallet shows for the HTLC while its second-stage output waits the CSV delay
    const htlcClaimsMsat = new Set<bigint>();
    for (let i = 0; i < 8 && !(await isSettled(w.node)); i++) {
      await mine(toSelfDelay / 2, `round ${i}`);
      for (const c of w.node.balances().claims)
        if (c.kind === 'awaiting-confirmations' && c.source === 'htlc') htlcClaimsMsat.add(c.amountMsat);
    }
    await mine(8, 'after');
    expect(w.node.balances().claims).toEqual([]);
    expect(await paying).toBeDefined();
    // LDK reports the HTLC's value until that output is swept; the wallet shows the HTLC-timeout
    // transaction's output (the HTLC less that transaction's fee), which is what it gets
    const commitment = await closingTx(w.fundingTxo);
    const htlcVout = commitment.outputs.findIndex((o) => o.value === 40_000n && isP2wsh(o.script));
    const timeout = net.devnet.chain.getTransaction(
      net.devnet.chain.outspend(commitment.txid, htlcVout)!.txid,
    )!;
    console.log(`HTLC-timeout fee: ${timeout.fee} sat`);
    expect(timeout.fee).toBeGreaterThan(0n);
    expect([...htlcClaimsMsat]).toEqual([timeout.tx.outputs[0]!.value * 1000n]);
    report();
    await w.node.stop();
  }, 1_800_000);

  /** Nothing left for LDK or the sweeper: all in the on-chain wallet. */
  async function isSettled(node: LightningNode): Promise<boolean> {
    const b = node.balances();
    return b.claims.length === 0 && b.closingMsat === 0n;
  }

  it('a reorg of the close: the commitment leaves the chain and comes back; never counted twice', async ({
    signal,
  }) => {
    const w = await walletWithChannel(0xa6);
    const { check, mine, report } = checker(signal, 'reorg of a close', () => w.node, [
      { fundingTxo: w.fundingTxo, ownership: 'none' },
    ]);
    await mine(2, 'open');
    lsp.closeChannel(w.channelId, { force: true });
    const commitment = await closingTx(w.fundingTxo);
    await mine(2, 'close');
    const block = net.devnet.chain.getTransaction(commitment.txid)!.location!;
    net.devnet.chain.invalidateBlock(block.blockHash);
    await lsp.syncChain();
    await w.node.syncChain();
    expect(net.devnet.chain.getTransaction(commitment.txid)?.location).toBeUndefined();
    check('close back in the mempool');
    await mine(8, 'mined again');
    expect(total(w.node.balances())).toBe(PUSH_MSAT);
    report();
    await w.node.stop();
  }, 180_000);

  it('penalty with an HTLC on the revoked commitment: the justice transaction takes every output, exact at every block', async ({
    signal,
  }) => {
    const w = await walletWithChannel(0xa7);
    await net.mine(2, [lsp, w.node]);
    const { held, paying } = await heldHtlc(lsp, w.node, 40_000_000n);
    await new Promise((r) => setTimeout(r, 1_500)); // the LSP's deferred manager snapshot
    const oldLspState = lspStore.snapshot(); // the LSP's cheating copy: the HTLC pending
    lsp.failInterceptedHtlc(held.interceptId);
    await paying;
    for (let i = 0; i < 3; i++) {
      const invoice = w.node.createInvoice({
        amountMsat: 50_000_000n,
        description: `p${i}`,
        expirySecs: 600,
      });
      await lsp.payInvoice(invoice.bolt11);
    }
    await waitUntil('paid', () => total(w.node.balances()) === PUSH_MSAT + 150_000_000n);
    await w.node.stop(); // the phone sleeps
    const cheat = (
      await net.make('old-lsp', 0x15, { role: 'lsp', store: new MemoryStore({ initial: oldLspState }) })
    ).node;
    cheat.closeChannel(w.channelId, { force: true });
    const revoked = await closingTx(w.fundingTxo);
    await cheat.stop();
    const revokedOutputs = revoked.outputs.flatMap((o, vout) => (isP2wsh(o.script) ? [vout] : []));
    expect(revokedOutputs).toHaveLength(2); // the LSP's to_local and the HTLC
    net.devnet.mine(3);

    let node = w.node;
    const { check, mine, report } = checker(signal, 'penalty', () => node, [
      { fundingTxo: w.fundingTxo, ownership: 'p2wsh' },
    ]);
    node = (await net.make('woken-a7', 0xa7, { role: 'wallet', store: w.store, trustedPeers: [lsp.nodeId] }))
      .node;
    check('woken');
    const spenders = () => revokedOutputs.map((vout) => net.devnet.chain.outspend(revoked.txid, vout)?.txid);
    await waitUntil('justice transactions', () => spenders().every((t) => t !== undefined), 20_000);
    await node.syncChain();
    check('justice in the mempool');
    const justice = [...new Set(spenders())].map((txid) => net.devnet.chain.getTransaction(txid!)!);
    for (const tx of justice) for (const o of tx.tx.outputs) expect(node.onchain.isMine(o.script)).toBe(true);
    await mine(10, 'justice');
    const commitmentFee = net.devnet.chain.getTransaction(revoked.txid)!.fee;
    const justiceFee = justice.reduce((n, tx) => n + tx.fee, 0n);
    expect(total(node.balances())).toBe((CAPACITY_SAT - commitmentFee - justiceFee) * 1000n);
    report();
    await node.stop();
  }, 300_000);
});
