// Crash test: a wallet process on SQLite, paying and being paid over TCP by an LSP (this process),
// is SIGKILLed at random moments and restarted from its file, again and again. After each restart
// the channel must still be open and usable, every in-flight payment resolved the same way on both
// sides, and the msat balances exactly what the payment records say. CRASH_SEED replays a run's
// choices (kill delays, amounts); CRASH_KILLS sets the number of kills (default 50); CRASH_MINUTES
// stops a run after that long with the kills done so far (the bench's long runs: each payment over
// the one channel grows its monitor, and with it the time of a kill);
// CRASH_DIRECTIONS=wallet-pays|lsp-pays restricts the traffic; CRASH_LOG=1 prints the log and
// keeps the SQLite files; CRASH_REPORT=<file> writes the run's counts there as JSON, passed or failed
// (the bench's `--crash` mode reads it: bench/src/crash-run.ts).
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { PaymentRecord } from '../../src/payments.ts';
import type { ChildWallet } from './child-process.ts';
import {
  balanceOf,
  big,
  checkBalancesAddUp,
  checkChannel,
  checkOwnLedger,
  checkPaymentsAgree,
  checkSettledKept,
  type Side,
} from './ledger.ts';
import { type NodeView, prng } from './protocol.ts';
import { CrashRig } from './rig.ts';

const SEED = process.env.CRASH_SEED ? Number(process.env.CRASH_SEED) : Math.floor(Math.random() * 2 ** 31);
const KILLS = Number(process.env.CRASH_KILLS ?? 50);
const MINUTES = process.env.CRASH_MINUTES ? Number(process.env.CRASH_MINUTES) : undefined;
const CAPACITY_SAT = 2_000_000n;
const PUSH_MSAT = 1_000_000_000n; // half to the wallet: both can pay from the start
const WORKERS = 3; // payments in flight per direction
/** Which side pays: both (default), or one direction only to look at one side's paths in isolation. */
const DIRECTIONS = (process.env.CRASH_DIRECTIONS ?? 'both') as 'both' | 'wallet-pays' | 'lsp-pays';
const SETTLE_MS = 60_000; // in-flight payments and HTLCs must resolve within this after a restart
const MINE_EVERY = 10; // cycles between blocks (the channel confirms, heights move under the wallet)
/** About 6 s a kill on a quiet machine; three times that, and never less than CI's 15 minutes. */
const TIMEOUT_MS = Math.max(900_000, Math.min(KILLS * 20_000, (MINUTES ?? Infinity) * 60_000 + 300_000));

/** What a run did and found, by kind: the bench reports these, the test fails on any problem. */
interface CrashStats {
  kills: number;
  startupKills: number;
  checks: number;
  settleMsMax: number;
  restartMsMax: number;
  /** Closes of any kind, and error events: a crash must never cost the channel. */
  forceCloses: number;
  /** Balances that don't add up, ledgers that disagree, settled payments lost. */
  msatMismatches: number;
  /** Anything else: the channel not usable, payment promises never settled. */
  otherProblems: number;
}

function report(stats: CrashStats, elapsedMs: number): void {
  const file = process.env.CRASH_REPORT;
  if (!file) return;
  const result = {
    crash_seed: SEED,
    crash_kills: stats.kills,
    crash_startup_kills: stats.startupKills,
    crash_checks: stats.checks,
    crash_force_closes: stats.forceCloses,
    crash_msat_mismatch: stats.msatMismatches,
    crash_other_problems: stats.otherProblems,
    crash_restart_ms_max: stats.restartMsMax,
    crash_settle_ms_max: stats.settleMsMax,
    crash_elapsed_s: Math.round(elapsedMs / 1000),
    crash_stopped_at_minutes: stats.kills < KILLS && MINUTES !== undefined ? MINUTES : 0,
  };
  writeFileSync(file, `${JSON.stringify(result)}\n`);
}

describe('crash: the wallet is SIGKILLed mid-payments and restarts from SQLite', () => {
  let rig: CrashRig | undefined;
  let failed = true;
  afterAll(async () => {
    await rig?.stop(failed || process.env.CRASH_LOG !== undefined);
  });

  it(
    `${KILLS} kills: no force close, exact msat accounting, nothing left in flight (seed ${SEED})`,
    async () => {
      console.log(`crash test seed ${SEED} — replay with CRASH_SEED=${SEED}`);
      const random = prng(SEED);
      rig = await CrashRig.start(`crash-${SEED}`);
      const r = rig;
      const stats: CrashStats = {
        kills: 0,
        startupKills: 0,
        checks: 0,
        settleMsMax: 0,
        restartMsMax: 0,
        forceCloses: 0,
        msatMismatches: 0,
        otherProblems: 0,
      };
      let walletBefore: PaymentRecord[] = [];
      let lspBefore: PaymentRecord[] = [];
      const started = Date.now();

      try {
        // first run: the LSP opens a 0-conf channel to the fresh wallet, pushing half
        let child = await startWallet(r, random, stats, false);
        const ready = r.lsp.waitFor('channel-ready', undefined, 30_000);
        r.lsp.openChannel({
          peerId: r.childNodeId,
          capacitySat: CAPACITY_SAT,
          pushMsat: PUSH_MSAT,
          zeroConf: true,
        });
        await ready;
        await usable(r, child);

        const stopAt = MINUTES === undefined ? Infinity : started + MINUTES * 60_000;
        // each cycle checks the restarted wallet first; the last check follows the last kill
        for (;;) {
          const cycle = stats.checks;
          if (cycle > 0 && cycle % MINE_EVERY === 0) {
            r.devnet.mine(1);
            await r.lsp.syncChain();
            r.note(`mined block ${r.devnet.chain.tipHeight}`);
          }
          // idle, restarted wallet: everything must add up
          const settleStart = Date.now();
          const { lspView, walletView } = await settled(r, child);
          stats.settleMsMax = Math.max(stats.settleMsMax, Date.now() - settleStart);
          const lsp: Side = {
            name: 'lsp',
            view: lspView,
            openingBalanceMsat: CAPACITY_SAT * 1000n - PUSH_MSAT,
          };
          const wallet: Side = { name: 'wallet', view: walletView, openingBalanceMsat: PUSH_MSAT };
          const closed = closes(r);
          const mismatched = [
            ...checkBalancesAddUp(lsp, wallet),
            ...checkOwnLedger(lsp),
            ...checkOwnLedger(wallet),
            ...checkPaymentsAgree(lsp, wallet),
            ...checkPaymentsAgree(wallet, lsp),
            ...checkSettledKept('wallet', walletBefore, walletView),
            ...checkSettledKept('lsp', lspBefore, lspView),
          ];
          const other = checkChannel(lsp, wallet);
          const inFlight = r.parentPayments.filter((p) => p.outcome === 'pending');
          if (inFlight.length > 0) other.push(`lsp: ${inFlight.length} payment promises never settled`);
          stats.forceCloses += closed.length;
          stats.msatMismatches += mismatched.length;
          stats.otherProblems += other.length;
          const problems = [...closed, ...mismatched, ...other];
          if (problems.length > 0)
            throw new Error(`cycle ${cycle}, wallet run #${child.run}:\n  ${problems.join('\n  ')}`);
          stats.checks++;
          walletBefore = walletView.payments!;
          lspBefore = lspView.payments!;
          r.note(
            `check ${cycle} ok: lsp ${balanceOf(lspView.channels[0]!)} wallet ${balanceOf(walletView.channels[0]!)} msat, ` +
              `${walletBefore.length} wallet / ${lspBefore.length} lsp records`,
          );

          if (stats.kills >= KILLS || Date.now() >= stopAt) break;

          // traffic both ways, steered toward the middle, then the kill at a random moment
          const share = Number((balanceOf(lspView.channels[0]!) * 1000n) / (CAPACITY_SAT * 1000n)) / 1000;
          const maxMsat = (s: number) =>
            BigInt(Math.max(2_000_000, Math.round(40_000_000 * Math.min(1, 2 * s))));
          const walletSeed = random.int(0, 2 ** 31); // drawn either way: a seed replays the same choices
          if (DIRECTIONS !== 'lsp-pays')
            await child.ask({
              op: 'traffic',
              seed: walletSeed,
              concurrency: WORKERS,
              minMsat: 1_000n,
              maxMsat: maxMsat(1 - share),
            });
          if (DIRECTIONS !== 'wallet-pays') r.startTraffic(child, random, WORKERS, maxMsat(share));
          const delayMs = random.next() < 0.5 ? random.int(0, 300) : random.int(300, 1_000);
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          r.stopTraffic();
          r.note(`SIGKILL wallet#${child.run} after ${delayMs} ms of traffic`);
          await child.kill();
          stats.kills++;
          child = await startWallet(r, random, stats, true);
          await usable(r, child);
        }
        const elapsed = Date.now() - started;
        const sent = r.parentPayments.filter((p) => p.outcome === 'sent').length;
        const refusals = new Map<string, number>();
        for (const p of r.parentPayments)
          if (p.error) {
            const reason = p.error.replace(/[0-9a-f]{64}|\d+/g, '…');
            refusals.set(reason, (refusals.get(reason) ?? 0) + 1);
          }
        console.log(
          `crash test seed ${SEED}: ${stats.kills} kills in traffic + ${stats.startupKills} during restarts, ` +
            `${stats.checks} checks passed, ${walletBefore.length} wallet payment records ` +
            `(${walletBefore.filter((p) => p.status === 'succeeded').length} succeeded), lsp sent ${sent}; ` +
            `slowest settle ${stats.settleMsMax} ms, slowest restart ${stats.restartMsMax} ms, ${Math.round(elapsed / 1000)} s; ` +
            `lsp payments not sent: ${JSON.stringify(Object.fromEntries(refusals))}`,
        );
        report(stats, elapsed);
        if (Date.now() < stopAt) expect(stats.kills).toBe(KILLS);
        failed = false;
        if (process.env.CRASH_LOG) console.log(r.dumpLog(SEED, 0));
      } catch (error) {
        // a failure that no check named (a wallet that never came back, a timeout) still counts
        if (stats.forceCloses + stats.msatMismatches + stats.otherProblems === 0) stats.otherProblems = 1;
        report(stats, Date.now() - started);
        console.error(`crash test FAILED, seed ${SEED} (replay with CRASH_SEED=${SEED})\n${r.dumpLog(SEED)}`);
        throw error;
      }
    },
    TIMEOUT_MS,
  );
});

/**
 * Spawns the wallet until a run gets to `ready`. When `mayKill`, one start in five is killed 0–400 ms
 * after its `ready` line: while it re-establishes the channel, replays the HTLCs and claims it had
 * in flight, and catches up on events (the kill lands wherever that work is by then).
 */
async function startWallet(
  r: CrashRig,
  random: ReturnType<typeof prng>,
  stats: { startupKills: number; restartMsMax: number },
  mayKill: boolean,
): Promise<ChildWallet> {
  for (;;) {
    const t0 = Date.now();
    const child = r.spawnWallet();
    const ready = await child.ready;
    r.childNodeId = ready.nodeId;
    stats.restartMsMax = Math.max(stats.restartMsMax, Date.now() - t0);
    if (mayKill && random.next() < 0.2) {
      const delayMs = random.int(0, 400);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      r.note(`SIGKILL wallet#${child.run} ${delayMs} ms after its ready line`);
      await child.kill();
      stats.startupKills++;
      continue;
    }
    return child;
  }
}

async function usable(r: CrashRig, child: ChildWallet): Promise<void> {
  await r.until(
    async () =>
      r.lsp.isConnected(r.childNodeId) &&
      r.lspView(false).channels[0]?.isUsable === true &&
      (await child.view(false)).channels[0]?.isUsable === true,
    `wallet#${child.run} reconnected with a usable channel`,
    30_000,
  );
}

/** Waits (event-driven) until nothing is in flight on either side, then takes full views. */
async function settled(
  r: CrashRig,
  child: ChildWallet,
): Promise<{ lspView: NodeView; walletView: NodeView }> {
  const idle = (v: NodeView) =>
    v.pendingOutbound === 0 &&
    v.channels.every((c) => c.isUsable && c.pendingInbound.length === 0 && c.pendingOutbound.length === 0);
  await r.until(
    async () =>
      r.parentPayments.every((p) => p.outcome !== 'pending') &&
      idle(r.lspView(false)) &&
      idle(await child.view(false)),
    `payments and HTLCs in flight at the kill of wallet#${child.run - 1} to resolve`,
    SETTLE_MS,
  );
  return { lspView: r.lspView(true), walletView: await child.view(true) };
}

/** A close of any kind (an event on either side, the funding output spent on the devnet), or an error event. */
function closes(r: CrashRig): string[] {
  const problems: string[] = [];
  for (const e of r.lspEvents)
    if (e.kind === 'channel-closed') problems.push(`lsp: channel closed: ${e.reason}`);
  for (const e of r.lspEvents)
    if (e.kind === 'error') problems.push(`lsp error event ${e.code}: ${e.message}`);
  for (const line of r.log.lines)
    if (line.includes(' wallet#') && /"kind":"(channel-closed|error)"/.test(line))
      problems.push(`wallet: ${line.slice(0, 400)}`);
  // a commitment (or any close) spends the funding output, in the mempool or in a block
  const channel = r.lsp.listChannels()[0];
  if (channel?.fundingTxo) {
    const [txid, vout] = channel.fundingTxo.split(':');
    const spend = r.devnet.chain.outspend(txid!, Number(vout));
    if (spend) problems.push(`funding output ${channel.fundingTxo} spent: ${JSON.stringify(spend, big)}`);
  }
  return problems;
}
