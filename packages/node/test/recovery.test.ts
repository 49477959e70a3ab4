// Recovery and exit on the devnet with real LDK: a wallet restored from a backup of its channel
// state (the latest, one payment old, ten payments old), or from its words alone, gets every
// satoshi of its channel balance back into its on-chain wallet when the LSP closes with its
// latest commitment; a silent LSP leaves the wallet waiting and nothing broadcast; an LSP that
// publishes a revoked commitment while the phone sleeps loses the whole channel to the wallet.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Tx } from '@lpw/devnet-chain';
import { waitUntil } from '@lpw/devnet-chain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { txidOf } from '../src/chain/bytes.ts';
import { EsploraSource } from '../src/chain/esplora.ts';
import { WALLET_TO_SELF_DELAY } from '../src/config.ts';
import type { Balances, LightningNode } from '../src/node.ts';
import { SYNCED_AT_KEY } from '../src/persist/keys.ts';
import { MemoryStore } from '../src/persist/memory.ts';
import { inMemory } from '../src/transport/memory.ts';
import { heldHtlc, type TestNet, testNet } from './harness.ts';

const CAPACITY_SAT = 1_000_000n;
const STALE_CHILD = fileURLToPath(new URL('./stale-restore-child.ts', import.meta.url));
const execFileAsync = promisify(execFile);
const PUSH_MSAT = 300_000_000n;

/** The LSP's chain source; `drop` makes its broadcasts vanish (an LSP that never publishes). */
class SilenceableEsplora extends EsploraSource {
  drop = false;
  override async broadcast(raw: Uint8Array): Promise<string> {
    if (this.drop) return txidOf(raw);
    return super.broadcast(raw);
  }
}

const total = (b: Balances): bigint => b.totalMsat;

describe('recovery: restore from backups or words, LSP closes, money back on chain; penalty', () => {
  let net: TestNet;
  let lsp: LightningNode;
  let lspStore: MemoryStore;
  const lspSource = { current: undefined as SilenceableEsplora | undefined };
  const lspLog: string[] = [];

  beforeAll(async () => {
    net = await testNet('recovery-tests');
    const source = new SilenceableEsplora({ url: net.devnet.esploraUrl });
    lspSource.current = source;
    lspStore = new MemoryStore();
    lsp = (
      await net.make('lsp', 0x15, {
        role: 'lsp',
        chain: source,
        store: lspStore,
        logLevel: 'warn',
        log: (e) => lspLog.push(e.message),
      })
    ).node;
    for (let i = 0; i < 6; i++) net.devnet.fund(await lsp.newAddress(), 1_500_000n, { confirmations: 1 });
    await lsp.syncChain();
  }, 30_000);

  afterAll(async () => {
    await lsp?.stop();
    await net?.stop();
  });

  /** A wallet with a channel from the LSP, `payments` payments alternating direction, a backup after each. */
  async function walletWithChannel(seedByte: number, payments: number) {
    const store = new MemoryStore();
    const { node } = await net.make(`wallet-${seedByte.toString(16)}`, seedByte, {
      role: 'wallet',
      store,
      trustedPeers: [lsp.nodeId],
    });
    await node.connect(lsp.nodeId, inMemory(lsp));
    const ready = node.waitFor('channel-ready', (e) => e.peerId === lsp.nodeId, 15_000);
    lsp.openChannel({ peerId: node.nodeId, capacitySat: CAPACITY_SAT, pushMsat: PUSH_MSAT });
    const { channelId } = await ready;
    await net.mine(1, [lsp, node]);
    const channel = () => node.listChannels().find((c) => c.channelId === channelId)!;
    await waitUntil(
      'usable',
      () => channel()?.isUsable && lsp.listChannels().some((c) => c.channelId === channelId && c.isUsable),
    );
    const fundingTxo = channel().fundingTxo!;
    expect(channel().toSelfDelay).toBeLessThanOrEqual(2016);
    // the delay the wallet demands on the LSP's outputs, accepted by the LSP
    const lspSide = lsp.listChannels().find((c) => c.channelId === channelId)!;
    expect(lspSide.toSelfDelay).toBe(WALLET_TO_SELF_DELAY);

    let balanceMsat = PUSH_MSAT;
    const backups: Map<string, Uint8Array>[] = [store.snapshot()];
    const balancesAt: bigint[] = [balanceMsat];
    for (let i = 0; i < payments; i++) {
      const amountMsat = 20_000_000n + BigInt(i) * 1_001n;
      if (i % 2 === 0) {
        const invoice = node.createInvoice({ amountMsat, description: `in ${i}`, expirySecs: 600 });
        await lsp.payInvoice(invoice.bolt11);
        balanceMsat += amountMsat;
      } else {
        const invoice = lsp.createInvoice({ amountMsat, description: `out ${i}`, expirySecs: 600 });
        await node.payInvoice(invoice.bolt11);
        balanceMsat -= amountMsat;
      }
      await waitUntil(
        'balance settles',
        () => channel().outboundMsat + channel().ourReserveMsat! === balanceMsat,
      );
      backups.push(store.snapshot());
      balancesAt.push(balanceMsat);
    }
    return { node, store, channelId, fundingTxo, backups, balancesAt, balanceMsat: () => balanceMsat };
  }

  /** The LSP's commitment spending the funding output, once it is in the mempool. */
  async function peerClose(fundingTxo: string): Promise<Tx> {
    const [txid, vout] = fundingTxo.split(':');
    await waitUntil(
      'LSP closing tx',
      () => net.devnet.chain.outspend(txid!, Number(vout)) !== undefined,
      20_000,
    );
    return net.devnet.chain.getTransaction(net.devnet.chain.outspend(txid!, Number(vout))!.txid)!.tx;
  }

  /**
   * After the LSP's close: its commitment pays the wallet's latest balance (to the satoshi below)
   * to the static payment key, the wallet counts it once at every block, nothing is swept.
   */
  async function expectMoneyBack(node: LightningNode, fundingTxo: string, balanceMsat: bigint): Promise<Tx> {
    const commitment = await peerClose(fundingTxo);
    const staticScript = node.onchain.staticPaymentKey().script;
    const ours = commitment.outputs.findIndex((o) => Buffer.from(o.script).equals(staticScript));
    expect(ours).toBeGreaterThanOrEqual(0);
    const valueSat = commitment.outputs[ours]!.value;
    // the LSP funded the channel: it pays the commitment fee, we get our balance rounded down
    expect(valueSat).toBe(balanceMsat / 1000n);

    await node.syncChain();
    expect(node.balances().onchainUnconfirmedMsat).toBe(valueSat * 1000n);
    expect(total(node.balances())).toBe(valueSat * 1000n);
    expect(node.recoveryStatus().find((c) => c.fundingTxo === fundingTxo)).toMatchObject({
      stage: 'close-unconfirmed',
      closingTxid: commitment.txid,
      recoveredMsat: valueSat * 1000n,
    });

    const changed = node.waitFor('recovery-changed', (e) =>
      e.channels.some((c) => c.stage === 'close-confirmed'),
    );
    await net.mine(1, [lsp, node]);
    await changed;
    expect(node.recoveryStatus().find((c) => c.fundingTxo === fundingTxo)).toMatchObject({
      stage: 'close-confirmed',
      confirmations: 1,
      recoveredMsat: valueSat * 1000n,
    });
    // the coin is in the chain's UTXO set at our static key, and counted once
    const coins = net.devnet.chain.unspentFor(staticScript, false);
    expect(coins.find((c) => c.txid === commitment.txid)?.value).toBe(valueSat);
    for (let block = 0; block < 7; block++) {
      expect(node.balances()).toMatchObject({
        onchainConfirmedMsat: valueSat * 1000n,
        closingMsat: 0n,
      });
      expect(total(node.balances())).toBe(valueSat * 1000n);
      await net.mine(1, [lsp, node]);
    }
    // past ANTI_REORG_DELAY LDK hands the output over: it is the wallet's already, nothing is swept
    expect(net.devnet.chain.outspend(commitment.txid, ours)).toBeUndefined();
    expect(node.pendingSweeps()).toEqual([]);
    return commitment;
  }

  /** Restore a wallet node from `backup` (recovery mode), reconnect, expect the money back. */
  async function restoreAndRecover(
    seedByte: number,
    backup: Map<string, Uint8Array>,
    fundingTxo: string,
    balanceMsat: bigint,
  ) {
    const store = new MemoryStore({ initial: backup });
    const { node } = await net.make(`restored-${seedByte.toString(16)}`, seedByte, {
      role: 'wallet',
      store,
      trustedPeers: [lsp.nodeId],
      recoverChannels: true,
    });
    expect(node.listChannels()).toEqual([]);
    const status = node.recoveryStatus().find((c) => c.fundingTxo === fundingTxo);
    expect(status).toMatchObject({ stage: 'awaiting-peer-close', peerId: lsp.nodeId, confirmations: 0 });
    expect(status!.closedAtMs).toBeGreaterThan(Date.now() - 60_000);
    // the restored state is not counted: it may be older (and richer) than the truth
    expect(node.balances().closingMsat).toBe(0n);
    expect(net.devnet.chain.mempool.ordered()).toEqual([]);
    await node.connect(lsp.nodeId, inMemory(lsp));
    await expectMoneyBack(node, fundingTxo, balanceMsat);
    return node;
  }

  it('a. restore from the latest backup: the LSP closes, every sat of the balance is back and spendable', async () => {
    const w = await walletWithChannel(0xa1, 4);
    const closed = lsp.waitFor('channel-closed', (e) => e.channelId === w.channelId, 30_000);
    await w.node.stop();
    const latest = w.store.snapshot();
    const node = await restoreAndRecover(0xa1, latest, w.fundingTxo, w.balanceMsat());
    const lspClosed = await closed;
    // our LDK answers the LSP's channel_reestablish for a channel it no longer has with one that
    // makes an LDK peer close with its latest commitment
    expect(lspClosed.reason).toMatch(/invalid channel_reestablish to force close/);

    // the coin is the wallet's to spend like any other (the devnet verifies the signature)
    const staticValueMsat = node.balances().onchainConfirmedMsat;
    const txid = await node.onchain.send(await lsp.newAddress(), 100_000n, 1_000);
    expect(net.devnet.chain.getTransaction(txid)).toBeDefined();
    await node.syncChain();
    expect(total(node.balances())).toBeLessThan(staticValueMsat - 100_000_000n);
    await node.stop();
  }, 120_000);

  it('b. restore from a backup one payment old: no panic, the LSP closes with its latest state', async () => {
    const w = await walletWithChannel(0xb2, 3);
    await w.node.stop();
    const backup = w.backups.at(-2)!;
    expect(w.balancesAt.at(-2)).not.toBe(w.balanceMsat());
    const node = await restoreAndRecover(0xb2, backup, w.fundingTxo, w.balanceMsat());
    await node.stop();
  }, 120_000);

  it('b (without recovery mode): the same one-payment-old restore panics LDK ("fallen behind"); with it, the LSP closes', async () => {
    // in child processes: the panic kills the WASM instance of every node in the process
    const run = async (mode: 'plain' | 'recover') => {
      const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', STALE_CHILD, mode], {
        timeout: 90_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      const line = stdout
        .split('\n')
        .filter((l) => l.startsWith('{"fallenBehind"'))
        .at(-1);
      return JSON.parse(line!) as { fallenBehind: boolean; panicked: string | false; lspClosed?: boolean };
    };
    expect(await run('plain')).toEqual({ fallenBehind: true, panicked: 'RuntimeError: unreachable' });
    expect(await run('recover')).toEqual({ fallenBehind: false, panicked: false, lspClosed: true });
  }, 200_000);

  it('c. restore from a backup ten payments old: the latest balance comes back, not the backup one', async () => {
    const w = await walletWithChannel(0xc3, 12);
    await w.node.stop();
    const backup = w.backups.at(-11)!;
    const node = await restoreAndRecover(0xc3, backup, w.fundingTxo, w.balanceMsat());
    expect(node.recoveryStatus()[0]!.backupBalanceMsat).toBe(w.balancesAt.at(-11));
    await node.stop();
  }, 180_000);

  it('d. words only (empty store): the LSP closes, the wallet finds its money by its normal sync', async () => {
    const w = await walletWithChannel(0xd4, 2);
    await w.node.stop();
    const { node } = await net.make('words-only', 0xd4, { role: 'wallet', trustedPeers: [lsp.nodeId] });
    expect(node.nodeId).toBe(w.node.nodeId);
    expect(node.recoveryStatus()).toEqual([]);
    await node.connect(lsp.nodeId, inMemory(lsp));
    await expectMoneyBack(node, w.fundingTxo, w.balanceMsat());
    expect(node.recoveryStatus()).toMatchObject([
      { channelId: undefined, fundingTxo: w.fundingTxo, stage: 'close-confirmed' },
    ]);
    await node.stop();
  }, 120_000);

  it('e. an LSP that never publishes: the wallet says it waits for the closing tx, broadcasts nothing, loses nothing', async () => {
    const w = await walletWithChannel(0xe5, 2);
    await w.node.stop();
    lspSource.current!.drop = true;
    const store = new MemoryStore({ initial: w.store.snapshot() });
    const { node } = await net.make('restored-e5', 0xe5, {
      role: 'wallet',
      store,
      trustedPeers: [lsp.nodeId],
      recoverChannels: true,
    });
    const closed = lsp.waitFor('channel-closed', (e) => e.channelId === w.channelId, 30_000);
    await node.connect(lsp.nodeId, inMemory(lsp));
    await closed; // the LSP closed, but its commitment went nowhere
    for (let i = 0; i < 3; i++) {
      await net.mine(1, [lsp, node]);
      const [status] = node.recoveryStatus();
      expect(status).toMatchObject({
        channelId: w.channelId,
        stage: 'awaiting-peer-close',
        closingTxid: undefined,
        confirmations: 0,
        recoveredMsat: 0n,
        backupBalanceMsat: w.balanceMsat(),
      });
      expect(node.isConnected(lsp.nodeId)).toBe(true);
      expect(net.devnet.chain.mempool.ordered()).toEqual([]);
      const [txid, vout] = w.fundingTxo.split(':');
      expect(net.devnet.chain.outspend(txid!, Number(vout))).toBeUndefined();
      expect(total(node.balances())).toBe(0n);
    }
    // once the LSP publishes again (its rebroadcast), the money arrives as usual
    lspSource.current!.drop = false;
    await lsp.syncChain();
    await expectMoneyBack(node, w.fundingTxo, w.balanceMsat());
    await node.stop();
  }, 120_000);
  it('f. penalty while the phone sleeps: the LSP publishes a revoked commitment with an HTLC on it, the woken wallet takes the whole channel', async () => {
    const w = await walletWithChannel(0xf6, 0);
    // an HTLC from the wallet the LSP holds (an intercept SCID it never forwards): in both commitments
    const { held, paying } = await heldHtlc(lsp, w.node, 40_000_000n);
    await new Promise((r) => setTimeout(r, 1_500)); // the LSP's deferred manager snapshot
    const oldLspState = lspStore.snapshot(); // the LSP's cheating copy: the HTLC pending
    lsp.failInterceptedHtlc(held.interceptId);
    expect(await paying).toMatchObject({
      name: 'NodeError',
      code: expect.stringMatching(/PAYMENT_FAILED|ROUTE_NOT_FOUND/),
    });
    for (let i = 0; i < 3; i++) {
      const invoice = w.node.createInvoice({
        amountMsat: 50_000_000n,
        description: `f${i}`,
        expirySecs: 600,
      });
      await lsp.payInvoice(invoice.bolt11);
    }
    const channel = () => w.node.listChannels().find((c) => c.channelId === w.channelId)!;
    await waitUntil(
      'paid',
      () => channel().outboundMsat + channel().ourReserveMsat! === PUSH_MSAT + 150_000_000n,
    );
    await w.node.stop(); // the phone sleeps

    // a node restored from the LSP's old store, never connected, broadcasts its old commitment
    const cheat = (
      await net.make('old-lsp', 0x15, { role: 'lsp', store: new MemoryStore({ initial: oldLspState }) })
    ).node;
    cheat.closeChannel(w.channelId, { force: true });
    const revoked = await peerClose(w.fundingTxo);
    await cheat.stop();
    const staticScript = w.node.onchain.staticPaymentKey().script;
    const toRemote = revoked.outputs.findIndex((o) => Buffer.from(o.script).equals(staticScript));
    // the old state: our balance was the push less the held HTLC; the LSP's to_local and the HTLC are P2WSH
    expect(revoked.outputs[toRemote]!.value).toBe((PUSH_MSAT - 40_000_000n) / 1000n);
    const revokedOutputs = revoked.outputs.flatMap((o, vout) => (o.script.length === 34 ? [vout] : []));
    expect(revoked.outputs.map((o) => o.value)).toContain(40_000n);
    expect(revokedOutputs).toHaveLength(2);
    net.devnet.mine(3); // fewer blocks than the LSP's to_self_delay, the wallet still asleep
    expect(WALLET_TO_SELF_DELAY).toBeGreaterThan(3);

    const { node } = await net.make('woken-f6', 0xf6, {
      role: 'wallet',
      store: w.store,
      trustedPeers: [lsp.nodeId],
    });
    const spenders = () => revokedOutputs.map((vout) => net.devnet.chain.outspend(revoked.txid, vout)?.txid);
    await waitUntil('justice transactions', () => spenders().every((t) => t !== undefined), 20_000);
    const justice = [...new Set(spenders())].map((txid) => net.devnet.chain.getTransaction(txid!)!);
    for (const tx of justice) for (const o of tx.tx.outputs) expect(node.onchain.isMine(o.script)).toBe(true);
    await net.mine(1, [lsp, node]);

    // everything the channel held is ours on chain, less the commitment's and the justice fees
    const commitmentFee = net.devnet.chain.getTransaction(revoked.txid)!.fee;
    const justiceFee = justice.reduce((n, tx) => n + tx.fee, 0n);
    const heldSat = CAPACITY_SAT - commitmentFee - justiceFee;
    const coins = [staticScript, ...justice.flatMap((tx) => tx.tx.outputs.map((o) => o.script))].flatMap(
      (script) => net.devnet.chain.unspentFor(script, false),
    );
    expect(
      [...new Map(coins.map((c) => [`${c.txid}:${c.vout}`, c.value])).values()].reduce((n, v) => n + v, 0n),
    ).toBe(heldSat);
    expect(justiceFee).toBeLessThan(10_000n);
    console.log(
      `penalty: commitment fee ${commitmentFee} sat, justice fee ${justiceFee} sat in ${justice.length} tx(s)`,
    );
    for (let block = 0; block < 7; block++) {
      expect(node.balances().onchainConfirmedMsat).toBe(heldSat * 1000n);
      expect(total(node.balances())).toBe(heldSat * 1000n);
      await net.mine(1, [lsp, node]);
    }
    expect(node.pendingSweeps()).toEqual([]);
    await node.stop();
  }, 120_000);

  it('bad input: recoverChannels must be a boolean (typed error, nothing created); chainWatch tells the window', async () => {
    const store = new MemoryStore();
    await expect(
      net.make('bad', 0x77, { role: 'wallet', store, recoverChannels: 'yes' as unknown as boolean }),
    ).rejects.toMatchObject({
      name: 'NodeError',
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/recoverChannels/),
    });
    expect(store.data.size).toBe(0);

    // a wallet that synced at start: the window is the delay it demands, the warning at its half
    const before = Date.now();
    const { node } = await net.make('watch', 0x78, { role: 'wallet', store });
    const watch = node.chainWatch();
    expect(watch.toSelfDelayBlocks).toBe(WALLET_TO_SELF_DELAY);
    expect(watch.lastSyncHeight).toBe(net.devnet.chain.tipHeight);
    expect(watch.lastSyncAtMs).toBeGreaterThanOrEqual(before);
    expect(watch.warnAtMs).toBe(watch.lastSyncAtMs! + 1008 * 600_000);
    await node.stop();
    // durable with the sync: a restart reads it before its first sync (which needs the network)
    expect(new TextDecoder().decode(store.data.get(SYNCED_AT_KEY))).toBe(String(watch.lastSyncAtMs));
  }, 60_000);
});
