// Hot standby with real processes on a real PostgreSQL: two LSP processes, the same settings plus
// HOT_STANDBY=true, one devnet chain. The active one is SIGKILLed (once, fenced instead: its lock
// session is ended under it) round after round; the other takes over, the killed one comes back as the
// standby, and a payment through the LSP succeeds after every failover. The two never serve as the
// active at once, nothing is force-closed, no HTLC is lost, and no commitment reaches the chain.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { type Devnet, startDevnet, waitUntil } from '@lpw/devnet';
import { type PublicNetwork, startPublicNetwork } from '@lpw/devnet/network';
import type { LightningNode } from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LspProcess, linkedClient, prepareLspNode, spawnLsp, walletOf } from './prepared-lsp.ts';

const LSP_SEED = '5b'.repeat(32);
// the bench's failover group runs it with its own count and reads the timings back (bench/src/failover-run.ts)
const ROUNDS = Number(process.env.STANDBY_ROUNDS ?? 20);
const REPORT = process.env.STANDBY_REPORT;
/** The round whose active process is fenced by ending its lock session instead of killed. */
const FENCED_ROUND = Math.ceil(ROUNDS / 2);
const pgUrl = inject('pgUrl');

describe.skipIf(!pgUrl)('hot standby: two LSP processes on one PostgreSQL under a kill loop', () => {
  const database = `lpw_ha_${randomBytes(5).toString('hex')}`;
  const databaseUrl = pgUrl ? `${pgUrl.slice(0, pgUrl.lastIndexOf('/'))}/${database}` : '';
  let admin: pg.Client;
  /** On the LSP's database: what an operator runs, and the record of takeovers. */
  let shared: pg.Client;
  let devnet: Devnet;
  let net: PublicNetwork;
  let lspNodeId: string;
  let wallet: LightningNode;
  const live = new Set<LspProcess>();
  let spawned = 0;
  const closes: string[] = [];
  /** Samples in which two processes answered /health as the active one. */
  const bothActive: string[] = [];
  let sampler: ReturnType<typeof setInterval> | undefined;
  /** Per round: kill → the standby's /health 200, and kill → the next payment settled. */
  const failoverMs: number[] = [];
  const failoverPayMs: number[] = [];

  const startLsp = async (): Promise<LspProcess> => {
    const p = await spawnLsp({
      name: `lsp-${++spawned}`,
      devnet,
      net,
      seedHex: LSP_SEED,
      env: { HOT_STANDBY: 'true', DATABASE_URL: databaseUrl },
      listeningMsg: 'standby: waiting for the lock',
      timeoutMs: 90_000,
    });
    live.add(p);
    void p.exit.then(() => live.delete(p));
    return p;
  };

  const health = async (p: LspProcess): Promise<number> => {
    try {
      return (await fetch(`${p.url}/health`, { signal: AbortSignal.timeout(2_000) })).status;
    } catch {
      return 0;
    }
  };

  const active = async (): Promise<LspProcess | undefined> => {
    for (const p of live) if ((await health(p)) === 200) return p;
    return undefined;
  };

  /** When the process logged that it took the lock (its clock is ours: same machine). */
  const tookLockAt = (p: LspProcess): number | undefined => {
    const line = p.logs.find((l) => l.includes('"msg":"standby: lock taken'));
    return line ? (JSON.parse(line) as { time: number }).time : undefined;
  };

  const connectWallet = (p: LspProcess) => linkedClient(p.url, wallet, 'wallet connected to the active LSP');

  const usable = () =>
    wallet.listChannels().some((c) => c.peerId === lspNodeId && c.isUsable) &&
    net.router.node.listChannels().some((c) => c.peerId === lspNodeId && c.isUsable);

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: pgUrl! });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    shared = new pg.Client({ connectionString: databaseUrl });
    await shared.connect();
    await initLdkNode();
    devnet = await startDevnet({ seed: 'lsp-standby' });
    net = await startPublicNetwork(devnet, { routerFundsSat: 20_000_000n });
    lspNodeId = await prepareLspNode({ database: databaseUrl, seedHex: LSP_SEED, devnet, net, coins: 2 });
    wallet = await walletOf(devnet, lspNodeId, 0x5c);
    for (const n of [wallet, net.router.node])
      n.on('channel-closed', (e) => closes.push(`${n === wallet ? 'wallet' : 'router'}: ${e.reason}`));
    // both started at once: exactly one wins the lock
    await Promise.all([startLsp(), startLsp()]);
    await waitUntil('one process active', async () => (await active()) !== undefined, 90_000);
    sampler = setInterval(() => {
      const processes = [...live];
      void Promise.all(processes.map(health)).then((codes) => {
        const serving = processes.filter((_, i) => codes[i] === 200).map((p) => p.name);
        if (serving.length > 1) bothActive.push(serving.join(' and '));
      });
    }, 100);
  }, 240_000);

  afterAll(async () => {
    clearInterval(sampler);
    if (REPORT) {
      const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
      const p50 = (xs: number[]) => sorted(xs)[Math.floor((xs.length - 1) / 2)] ?? -1;
      const worst = (xs: number[]) => sorted(xs).at(-1) ?? -1;
      writeFileSync(
        REPORT,
        JSON.stringify({
          failover_rounds: failoverPayMs.length,
          lsp_failover_ms: worst(failoverMs),
          lsp_failover_ms_p50: p50(failoverMs),
          lsp_failover_pay_ms: worst(failoverPayMs),
          lsp_failover_pay_ms_p50: p50(failoverPayMs),
          failover_both_active: bothActive.length,
          failover_force_closes: closes.length,
        }),
      );
    }
    for (const p of [...live]) {
      p.child.kill('SIGKILL');
      await p.exit;
    }
    await wallet?.stop();
    await net?.stop();
    await devnet?.stop();
    await shared?.end();
    await admin?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
    await admin?.end();
  }, 60_000);

  it(`${ROUNDS} failovers: one active at a time, every payment after a failover succeeds, no force-close`, async () => {
    let current = (await active())!;
    const standbyStatus = await health([...live].find((p) => p !== current)!);
    expect(standbyStatus).toBe(503);
    let client = await connectWallet(current);
    // the wallet's channel: a JIT open paid by the router through the LSP
    const jit = await client.receiveJit(wallet, { amountMsat: 200_000_000n, description: 'standby' });
    const opened = wallet.waitFor('payment-received', (e) => e.paymentHash === jit.paymentHash, 60_000);
    await net.router.node.payInvoice(jit.bolt11, { timeoutMs: 60_000 });
    await opened;
    const fundings = [...wallet.listChannels(), ...net.router.node.listChannels()]
      .filter((c) => c.peerId === lspNodeId)
      .map((c) => c.fundingTxo!);
    expect(fundings).toHaveLength(2);

    for (let round = 1; round <= ROUNDS; round++) {
      const old = current;
      const killedAt = Date.now();
      if (round === FENCED_ROUND) {
        // fenced while alive: its lock session ends, so it must stop acting and exit on its own
        await shared.query('SELECT pg_terminate_backend(backend_pid) FROM active_process');
      } else {
        old.child.kill('SIGKILL');
      }
      const code = await old.exit;
      if (round === FENCED_ROUND) expect(code).toBe(75);
      await waitUntil(
        `round ${round}: the standby takes over`,
        async () => {
          current = (await active()) ?? old;
          return current !== old;
        },
        60_000,
        50,
      );
      failoverMs.push(Date.now() - killedAt);
      if (round !== FENCED_ROUND) expect(tookLockAt(current)!).toBeGreaterThanOrEqual(killedAt);
      const restarted = startLsp();
      client = await connectWallet(current);
      await waitUntil(`round ${round}: channels usable again`, usable, 60_000);
      const before = wallet.listChannels().find((c) => c.peerId === lspNodeId)!.outboundMsat;
      const amountMsat = 1_000_000n + BigInt(round);
      // a day: the invoice's timestamp is the last block's (LDK without std), and no block is mined here
      const invoice = wallet.createInvoice({ amountMsat, description: `round ${round}`, expirySecs: 86_400 });
      await net.router.node.payInvoice(invoice.bolt11, { timeoutMs: 60_000 });
      // nothing stuck in flight: the wallet's balance moved by exactly the payment
      await waitUntil(
        `round ${round}: wallet balance settled`,
        () => wallet.listChannels().find((c) => c.peerId === lspNodeId)!.outboundMsat === before + amountMsat,
        30_000,
      );
      failoverPayMs.push(Date.now() - killedAt);
      expect(await health(await restarted)).toBe(503);
    }

    expect(bothActive).toEqual([]);
    expect(closes).toEqual([]);
    expect((await shared.query('SELECT takeovers FROM active_process')).rows[0].takeovers).toBe(
      String(ROUNDS + 1),
    );
    // the chain's word: both channels' funding outputs are unspent, so no commitment was broadcast
    for (const txo of fundings) {
      const [txid, vout] = txo.split(':');
      const outspend = (await (await fetch(`${devnet.esploraUrl}/tx/${txid}/outspend/${vout}`)).json()) as {
        spent: boolean;
      };
      expect(outspend.spent, `funding ${txo} spent`).toBe(false);
    }
  }, 1_800_000);
});
