// The LSP process is SIGKILLed during a JIT channel open and during a burst of forwards, then
// restarted from its SQLite file: every payment settles (none stuck past its timeout), the JIT
// payment is delivered or failed back, the wallet's ledger matches the payer's, nothing was
// force-closed, and the purchase is still on record.
import { join } from 'node:path';
import { parseScid } from '@lpw/api';
import { type Devnet, startDevnet, waitUntil } from '@lpw/devnet';
import { type PublicNetwork, startPublicNetwork } from '@lpw/devnet/network';
import type { LightningNode } from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LspClient } from '../src/client/index.ts';
import { openStore } from '../src/store/index.ts';
import { type LspProcess, linkedClient, prepareLspNode, spawnLsp, walletOf } from './prepared-lsp.ts';
import { tempDir } from './temp-dir.ts';

const LSP_SEED = '77'.repeat(32);

describe('LSP SIGKILLed during JIT opens and forwards (SQLite)', () => {
  const dir = tempDir('lsp-crash-');
  const dbPath = join(dir, 'lsp.sqlite');
  let devnet: Devnet;
  let net: PublicNetwork;
  let lspNodeId: string;
  let lsp: LspProcess | undefined;
  let wallet: LightningNode;
  let client: LspClient;
  const closes: string[] = [];
  /** Channel id → funding txid, from each side's channel-pending. */
  const fundingOf = new Map<string, string>();

  const startLsp = (): Promise<LspProcess> =>
    spawnLsp({
      name: 'LSP process',
      devnet,
      net,
      seedHex: LSP_SEED,
      env: { DATA_DIR: dir, DATABASE_URL: dbPath },
      listeningMsg: 'lsp-server listening',
      timeoutMs: 60_000,
    });

  const kill = async (p: LspProcess) => {
    p.child.kill('SIGKILL');
    await p.exit;
  };

  const connectWallet = async () => {
    client = await linkedClient(lsp!.url, wallet, 'wallet reconnected');
  };

  beforeAll(async () => {
    await initLdkNode();
    devnet = await startDevnet({ seed: 'lsp-crash' });
    net = await startPublicNetwork(devnet, { routerFundsSat: 20_000_000n });
    lspNodeId = await prepareLspNode({ database: dbPath, seedHex: LSP_SEED, devnet, net, coins: 4 });
    wallet = await walletOf(devnet, lspNodeId, 0x51);
    for (const n of [wallet, net.router.node]) {
      n.on('channel-pending', (e) => fundingOf.set(e.channelId, e.fundingTxo.split(':')[0]!));
      n.on('channel-closed', (e) => {
        // a channel whose funding never left the LSP (killed before its monitor was durable, so LDK
        // never broadcast it) held no money: its close, whatever words the restarted LSP chose, is
        // no force close of funds
        const txid = fundingOf.get(e.channelId);
        const unfunded =
          e.reason.includes('prior to the channel being funded') ||
          (txid !== undefined && devnet.chain.getTransaction(txid) === undefined);
        if (!unfunded) closes.push(`${n === wallet ? 'wallet' : 'router'}: ${e.reason} ${e.channelId}`);
      });
    }
    lsp = await startLsp();
    await waitUntil('LSP reconnected to the router', () => net.router.node.isConnected(lspNodeId), 30_000);
    await waitUntil(
      'router → LSP usable again',
      () => net.router.node.listChannels().some((c) => c.peerId === lspNodeId && c.isUsable),
      30_000,
    );
    await connectWallet();
  }, 180_000);

  afterAll(async () => {
    if (lsp && lsp.child.exitCode === null) await kill(lsp);
    await wallet?.stop();
    await net?.stop();
    await devnet?.stop();
  }, 60_000);

  it('killed while opening the JIT channel: after the restart the payment is delivered minus the fee', async () => {
    const jit = await client.receiveJit(wallet, {
      amountMsat: 500_000_000n,
      description: 'crash during open',
    });
    const received = wallet.waitFor('payment-received', (e) => e.paymentHash === jit.paymentHash, 120_000);
    const paying = net.router.node.payInvoice(jit.bolt11, { timeoutMs: 120_000 });
    paying.catch(() => {});
    await waitUntil(
      'JIT open started',
      () => lsp!.logs.some((l) => l.includes('jit: opening zero-conf channel')),
      30_000,
    );
    await kill(lsp!);
    lsp = await startLsp();
    await connectWallet();
    const [sent, got] = await Promise.all([paying, received]).catch((e) => {
      process.stderr.write(`${lsp!.logs.join('\n')}\n`);
      throw e;
    });
    expect(sent.amountMsat).toBe(500_000_000n);
    expect(got.amountMsat).toBe(500_000_000n - jit.openingFeeMsat);
    expect(wallet.listChannels().filter((c) => c.peerId === lspNodeId)).toHaveLength(1);
    const store = await openStore(dbPath);
    try {
      expect((await store.getJitPurchase(parseScid(jit.jitChannelScid)))?.state).toBe('FORWARDED');
    } finally {
      await store.close();
    }
  }, 180_000);

  it('killed during a burst of forwards: every payment settles, ledgers agree, nothing force-closed', async () => {
    const invoices = Array.from({ length: 12 }, (_, i) =>
      wallet.createInvoice({
        amountMsat: 1_000_000n + BigInt(i),
        description: `burst ${i}`,
        expirySecs: 600,
      }),
    );
    const results = invoices.map((inv) =>
      net.router.node.payInvoice(inv.bolt11, { timeoutMs: 120_000 }).then(
        () => 'sent' as const,
        (e: Error) => `failed: ${e.message}`,
      ),
    );
    await new Promise((r) => setTimeout(r, 30));
    await kill(lsp!);
    lsp = await startLsp();
    await connectWallet();
    const outcomes = await Promise.all(results); // none stuck: each resolves within its timeout
    const sentCount = outcomes.filter((o) => o === 'sent').length;
    // what the payer counts as paid is what the wallet received, invoice by invoice
    await waitUntil(
      'wallet ledger matches the payer',
      () =>
        invoices.filter((inv) => wallet.payment(inv.paymentHash)?.status === 'succeeded').length ===
        sentCount,
      30_000,
    );
    for (const [i, inv] of invoices.entries()) {
      const paid = outcomes[i] === 'sent';
      expect(wallet.payment(inv.paymentHash)?.status === 'succeeded').toBe(paid);
    }
    // the channels still carry payments after all this
    const after = wallet.createInvoice({ amountMsat: 2_000_000n, description: 'after', expirySecs: 600 });
    await net.router.node.payInvoice(after.bolt11, { timeoutMs: 60_000 });
    expect(closes).toEqual([]);
    for (const c of wallet.listChannels()) expect(c.isUsable).toBe(true);
  }, 180_000);
});
