// `lpw-wallet`: the headless wallet's command line. Human-readable output by default, one JSON
// object per line with --json; errors go to stderr with a code and a non-zero exit status.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { hoursOf, type Network, type RecoveryChannel } from '@lpw/node';
import {
  BACKUP_BLOB_LIMIT_BYTES,
  expectedMonitorGrowth,
  MONITOR_BYTES_PER_PAYMENT,
  type StreamHandle,
  type StreamRecord,
} from '@lpw/stream';
import { backupReport, exportBackup } from './backup.ts';
import { CliError, isCliError, toCliError } from './errors.ts';
import { isoOrDash, sat, toJson } from './format.ts';
import { initWallet, openWallet, type RestoreReport, restoreWallet, type Wallet } from './wallet.ts';

const USAGE = `lpw-wallet — a Lightning wallet for machines

usage: lpw-wallet <command> [options]

commands
  init                                   create the wallet directory and its seed (seed.txt, mode 0600)
  init --words "…" [--backup-file FILE] [--timeout SECS]
                                         restore a wallet in a new directory: the newest valid backup
                                         among the LSP's and FILE, its channels closed so the money
                                         comes back on chain (words only when there is no backup)
  receive AMOUNT_SATS [--desc TEXT] [--max-fee-sats N] [--expiry SECS] [--no-wait] [--timeout SECS]
                                         print an invoice (a JIT channel when there is no inbound
                                         capacity: the LSP's fee is shown first), then wait for it
  pay BOLT11 [--max-fee-sats N]          pay an invoice
  pay OFFER [--amount-sats N] [--max-fee-sats N]
                                         pay a BOLT 12 offer (lno1…): its description and amount
                                         are printed first; --amount-sats for an offer without one
  offer [--payments N] [--timeout SECS] print this wallet's reusable BOLT 12 offer (any amount);
                                         with --payments, stay online (a payer's request needs the
                                         wallet to answer) until N payments came or SECS passed
  balance                                what the wallet holds
  history                                payments, newest first (a stream is one entry)
  stream --to NODE_ID|ADDRESS --sats-per-minute N --budget-sats B (--until ISO | --minutes M)
         [--per-second | --period-ms MS] [--max-fee-msat-per-payment N] [--on-restart resume|stop]
  stream --resume STREAM_ID              continue a stream after a crash or a stop
                                         (keysend to a node id; to a Lightning Address or LNURL-pay, an
                                         invoice fetched per payment, at most one a second; SIGINT stops
                                         gracefully, SIGUSR1 pauses, SIGUSR2 resumes)
  streams                                every stream with its totals
  l402 fetch URL --max-sats N [--max-fee-sats N]
                                         fetch a URL, paying its L402 challenge
  backup status                          the latest backup: version, when, how far behind
  backup export FILE                     write the latest backup to a new file (keep it off this machine)

leaving (these work when the LSP is unreachable: network and chain source as last seen,
--esplora-url to choose another)
  channels                               open channels, and closed ones whose money is on its way
  close [CHANNEL_ID] [--force] [--yes]   close a channel (the only one when no id is given); prints
                                         its network fee first and asks (--yes: no question); a
                                         cooperative close needs the LSP, --force does not: the money
                                         then waits the channel's CSV delay and is swept on chain
  sweeps                                 closing channels (amount, blocks and hours left), pending sweeps
  onchain balance                        the on-chain wallet
  onchain address                        a fresh receive address
  onchain send ADDRESS|BIP21_URI [--amount-sats N | --all] [--yes]
                                         prints the fee first and asks (--yes: no question), then sends

options
  --dir DIR        wallet directory (default $LPW_WALLET_DIR or ~/.lpw-wallet)
  --lsp URL        the LSP (default $LPW_LSP_URL or http://127.0.0.1:8080)
  --lsp-transport trpc|bolt8
                   how the LSP is spoken to (default trpc: its HTTP API). bolt8: only as a Lightning
                   peer, in LSPS over BOLT 8 custom messages (bLIP 50/52), no HTTP at all; needs
                   --lsp-peer NODE_ID@HOST:PORT, --network and --esplora-url. receive, balance,
                   history and the leaving commands work; pay, stream and l402 need the LSP's routes
                   (HTTP), and the LSP keeps no backup of this wallet
  --lsp-peer NODE_ID@HOST:PORT
                   the LSP's Lightning peer address (its public TCP port), for --lsp-transport bolt8
  --network NAME   bitcoin, testnet, signet or regtest: refuse an LSP on another (required with bolt8)
  --esplora-url URL
                   chain source, an Esplora base URL (default: the one the LSP advertises; --esplora too)
  --esplora-url-2 URL
                   a second Esplora compared with the first (tips, confirmations, spends): when they
                   disagree the wallet acts on neither and fails with CHAIN_CHECK_FAILED
  --json           machine output: one JSON object per line
  --verbose        diagnostics on stderr
  --compact-monitor-every N
                   rewrite the full ChannelMonitor after N stored updates (default 64; measurements)
`;

const OPTIONS = {
  dir: { type: 'string' },
  lsp: { type: 'string' },
  'lsp-transport': { type: 'string' },
  'lsp-peer': { type: 'string' },
  network: { type: 'string' },
  esplora: { type: 'string' },
  'esplora-url': { type: 'string' },
  'esplora-url-2': { type: 'string' },
  force: { type: 'boolean' },
  all: { type: 'boolean' },
  yes: { type: 'boolean' },
  'amount-sats': { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  desc: { type: 'string' },
  'max-fee-sats': { type: 'string' },
  'max-fee-msat-per-payment': { type: 'string' },
  expiry: { type: 'string' },
  'no-wait': { type: 'boolean' },
  timeout: { type: 'string' },
  payments: { type: 'string' },
  to: { type: 'string' },
  'sats-per-minute': { type: 'string' },
  'per-second': { type: 'boolean' },
  'period-ms': { type: 'string' },
  'budget-sats': { type: 'string' },
  until: { type: 'string' },
  minutes: { type: 'string' },
  'on-restart': { type: 'string' },
  resume: { type: 'string' },
  'max-sats': { type: 'string' },
  words: { type: 'string' },
  'backup-file': { type: 'string' },
  'compact-monitor-every': { type: 'string' },
} as const;

const NETWORKS: readonly Network[] = ['bitcoin', 'testnet', 'signet', 'regtest'];

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function bigintFlag(value: string | undefined, name: string, min = 0n): bigint | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,18}$/.test(value))
    throw new CliError('USAGE', `--${name} expects a whole number, got "${value}"`);
  const n = BigInt(value);
  if (n < min) throw new CliError('USAGE', `--${name} must be at least ${min}`);
  return n;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new CliError('USAGE', `missing ${what}`);
  return value;
}

class Output {
  constructor(private readonly json: boolean) {}
  /** One result: an object for --json, lines for people. */
  emit(event: string, data: Record<string, unknown>, human: string | string[]): void {
    if (this.json) process.stdout.write(`${toJson({ event, ...data })}\n`);
    else process.stdout.write(`${(Array.isArray(human) ? human : [human]).join('\n')}\n`);
  }
}

// stdout carries results only (one JSON object per line with --json): libraries that talk on
// console.log (the LDK bindings announce themselves when loaded) go to stderr
console.log = console.error;
console.info = console.error;

async function main(argv: string[]): Promise<number> {
  const { values: flags, positionals } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  const command = positionals[0];
  if (flags.help || !command) {
    process.stdout.write(USAGE);
    return command || flags.help ? 0 : 2;
  }
  const out = new Output(flags.json ?? false);
  const dir = resolve(flags.dir ?? process.env.LPW_WALLET_DIR ?? join(homedir(), '.lpw-wallet'));

  const lspUrl = flags.lsp ?? process.env.LPW_LSP_URL ?? 'http://127.0.0.1:8080';
  const esploraUrl = flags['esplora-url'] ?? flags.esplora;
  const verbose = flags.verbose ?? false;
  const transport = flags['lsp-transport'] ?? 'trpc';
  if (transport !== 'trpc' && transport !== 'bolt8')
    throw new CliError('USAGE', `--lsp-transport expects trpc or bolt8, got "${transport}"`);
  const network = flags.network;
  if (network !== undefined && !NETWORKS.includes(network as Network))
    throw new CliError('USAGE', `--network expects one of ${NETWORKS.join(', ')}, got "${network}"`);
  const common = {
    dir,
    lspUrl,
    lspTransport: transport as 'trpc' | 'bolt8',
    ...(flags['lsp-peer'] !== undefined ? { lspPeer: flags['lsp-peer'] } : {}),
    ...(network !== undefined ? { network: network as Network } : {}),
    ...(esploraUrl ? { esploraUrl } : {}),
    ...(flags['esplora-url-2'] ? { secondEsploraUrl: flags['esplora-url-2'] } : {}),
    ...(flags['compact-monitor-every']
      ? {
          node: {
            compactMonitorEvery: Number(
              bigintFlag(flags['compact-monitor-every'], 'compact-monitor-every', 1n),
            ),
          },
        }
      : {}),
    ...(verbose ? { log: (m: string) => process.stderr.write(`${m}\n`), logLevel: 'warn' as const } : {}),
  };

  if (command === 'init') {
    if (flags.words === undefined) {
      if (flags['backup-file'])
        throw new CliError('USAGE', '--backup-file restores a wallet: give its --words too');
      initWallet(dir);
      const seedFile = join(dir, 'seed.txt');
      out.emit('initialized', { dir, seedFile }, [
        `wallet created in ${dir}`,
        `seed: ${seedFile} (mode 0600) — this file IS the wallet's key: back it up, never share it`,
      ]);
      return 0;
    }
    const wallet = await restoreWallet({
      ...common,
      words: flags.words,
      ...(flags['backup-file'] !== undefined ? { backupFile: resolve(flags['backup-file']) } : {}),
      onRestore: (report) => printRestore(out, report),
    });
    try {
      return await Promise.race([finishRestore(wallet, out, flags, dir), wallet.fenced]);
    } finally {
      await wallet.close();
    }
  }
  if (command === 'backup') return backupCommand(positionals.slice(1), dir, out);
  const leaving = ['channels', 'close', 'sweeps', 'onchain'];
  const known = ['receive', 'pay', 'offer', 'balance', 'history', 'stream', 'streams', 'l402', ...leaving];
  if (!known.includes(command)) throw new CliError('USAGE', `unknown command "${command}" (see --help)`);
  if (command === 'l402' && positionals[1] !== 'fetch')
    throw new CliError('USAGE', 'usage: l402 fetch URL --max-sats N');
  if (command === 'onchain' && !['balance', 'address', 'send'].includes(positionals[1] ?? ''))
    throw new CliError('USAGE', 'usage: onchain balance | onchain address | onchain send ADDRESS|URI');

  const wallet = await openWallet({ ...common, lspOptional: leaving.includes(command) });
  try {
    // another device taking the wallet over ends any command at once (LEASE_FENCED, exit 4)
    return await Promise.race([run(command, positionals.slice(1), flags, wallet, out), wallet.fenced]);
  } finally {
    await wallet.close();
  }
}

async function run(
  command: string,
  args: string[],
  flags: Flags,
  wallet: Wallet,
  out: Output,
): Promise<number> {
  switch (command) {
    case 'receive': {
      const amountSat = required(bigintFlag(args[0], 'AMOUNT_SATS', 1n), 'AMOUNT_SATS');
      const maxFeeSat = bigintFlag(flags['max-fee-sats'], 'max-fee-sats');
      const quote = await wallet.quoteReceive(amountSat * 1000n);
      if (quote.jit)
        out.emit('quote', { jit: true, amountMsat: quote.amountMsat, openingFeeMsat: quote.openingFeeMsat }, [
          `no inbound capacity for ${amountSat} sat: the LSP opens a channel when this is paid`,
          `  opening fee ${sat(quote.openingFeeMsat)} sat (you receive ${sat(quote.amountMsat - quote.openingFeeMsat)} sat)`,
        ]);
      const receive = await wallet.receive({
        amountMsat: amountSat * 1000n,
        ...(flags.desc !== undefined ? { description: flags.desc } : {}),
        ...(maxFeeSat !== undefined ? { maxFeeMsat: maxFeeSat * 1000n } : {}),
        ...(flags.expiry ? { expirySecs: Number(bigintFlag(flags.expiry, 'expiry', 60n)) } : {}),
        quote,
      });
      out.emit(
        'invoice',
        {
          bolt11: receive.bolt11,
          paymentHash: receive.paymentHash,
          amountMsat: receive.amountMsat,
          jit: receive.jit,
          openingFeeMsat: receive.openingFeeMsat,
          expiresAt: new Date(receive.expiresAtMs).toISOString(),
        },
        receive.bolt11,
      );
      if (flags['no-wait']) return 0;
      const timeoutMs = Number(bigintFlag(flags.timeout, 'timeout', 1n) ?? 3600n) * 1000;
      const got = await wallet.waitForPayment(
        receive.paymentHash,
        Math.min(timeoutMs, receive.expiresAtMs - Date.now()),
      );
      out.emit(
        'received',
        { paymentHash: receive.paymentHash, amountMsat: got.amountMsat, feeMsat: got.feeMsat },
        `received ${sat(got.amountMsat)} sat${got.feeMsat > 0n ? ` (LSP fee ${sat(got.feeMsat)} sat)` : ''}`,
      );
      return 0;
    }
    case 'offer': {
      const wanted = Number(bigintFlag(flags.payments, 'payments', 0n) ?? 0n);
      const timeoutMs = Number(bigintFlag(flags.timeout, 'timeout', 1n) ?? 3600n) * 1000;
      let received = 0;
      let done = () => {};
      const allIn = new Promise<void>((resolve) => {
        done = resolve;
      });
      // listening before the offer is out: a payer may be quick
      const off = wallet.node.on('payment-received', (e) => {
        if (wallet.node.payment(e.paymentHash)?.kind !== 'bolt12') return;
        out.emit(
          'received',
          { paymentHash: e.paymentHash, amountMsat: e.amountMsat },
          `received ${sat(e.amountMsat)} sat`,
        );
        if (++received >= wanted) done();
      });
      try {
        const offer = wallet.offer();
        out.emit('offer', { offer }, offer);
        if (wanted === 0) return 0;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timedOut = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        });
        await Promise.race([allIn, timedOut]);
        clearTimeout(timer);
        if (received < wanted)
          throw new CliError('TIMEOUT', `${received} of ${wanted} payments within ${timeoutMs / 1000} s`);
        return 0;
      } finally {
        off();
      }
    }
    case 'pay': {
      const bolt11 = required(args[0], 'BOLT11');
      const maxFeeSat = bigintFlag(flags['max-fee-sats'], 'max-fee-sats');
      if (/^lno1/i.test(bolt11.trim())) return payOffer(bolt11, flags, wallet, out);
      const paid = await wallet.pay(bolt11, maxFeeSat !== undefined ? { maxFeeMsat: maxFeeSat * 1000n } : {});
      out.emit(
        'paid',
        { ...paid },
        `paid ${sat(paid.amountMsat)} sat, fee ${sat(paid.feeMsat)} sat (preimage ${paid.preimage})`,
      );
      return 0;
    }
    case 'balance': {
      const b = wallet.balance();
      const state = await wallet.channelStateBytes();
      const recovery = wallet.node.recoveryStatus();
      const backup = wallet.backupStatus;
      out.emit(
        'balance',
        { nodeId: wallet.nodeId, ...b, channelState: state, recovery, backup: backup && backupJson(backup) },
        [
          `node       ${wallet.nodeId}`,
          `spendable  ${sat(b.spendableMsat)} sat`,
          `lightning  ${sat(b.lightningMsat)} sat in ${b.channels} channel(s)${b.reserveMsat > 0n ? ` (+ ${sat(b.reserveMsat)} sat reserve)` : ''}, can receive ${sat(b.inboundMsat)} sat`,
          ...(b.inFlightMsat > 0n ? [`in flight  ${sat(b.inFlightMsat)} sat`] : []),
          `on-chain   ${sat(b.onchainConfirmedMsat)} sat confirmed${b.onchainUnconfirmedMsat > 0n ? `, ${sat(b.onchainUnconfirmedMsat)} sat unconfirmed` : ''}`,
          ...(b.closingMsat > 0n
            ? [`closing    ${sat(b.closingMsat)} sat on their way from closed channels`]
            : []),
          `total      ${sat(b.totalMsat)} sat`,
          `state      ${state.managerBytes} B manager, ${state.monitorBytes} B monitors (+ ${state.monitorUpdateBytes} B updates)`,
          ...(backup
            ? [
                `backup     version ${backup.version} at the LSP${backup.behindBy > 0 ? `, ${backup.behindBy} channel update(s) not in it yet` : ''}`,
              ]
            : []),
          ...recovery.map((c) => `recovery   ${recoveryLine(c)}`),
          ...(b.pendingOutMsat > 0n
            ? [`pending    ${sat(b.pendingOutMsat)} sat outgoing, outcome not known yet`]
            : []),
        ],
      );
      return 0;
    }
    case 'history': {
      const entries = wallet.history();
      if (flags.json) for (const e of entries) out.emit('history', { ...e }, '');
      else
        for (const e of entries) {
          const when = new Date(e.at).toISOString();
          if (e.stream)
            process.stdout.write(
              `${when}  stream ${e.stream.id} → ${shortRecipient(e.stream.to)}  ${e.stream.count} payments, ${sat(e.amountMsat)} sat + ${sat(e.feeMsat)} fee, ${isoOrDash(e.stream.firstMs)} … ${isoOrDash(e.stream.lastMs)}  ${e.status}\n`,
            );
          else
            process.stdout.write(
              `${when}  ${e.kind.padEnd(8)} ${sat(e.amountMsat)} sat (fee ${sat(e.feeMsat)})  ${e.status}  ${e.paymentHash ?? ''}\n`,
            );
        }
      return 0;
    }
    case 'streams': {
      for (const s of wallet.ledger.list()) out.emit('stream', streamJson(s), streamLine(s));
      return 0;
    }
    case 'stream':
      return runStream(flags, wallet, out);
    case 'channels':
      printChannels(wallet, out);
      return 0;
    case 'close': {
      const fee = wallet.closeFee(args[0], { force: flags.force ?? false });
      out.emit(
        'close-fee',
        { ...fee },
        `${fee.force ? 'force-close' : 'close'} ${fee.channelId}: network fee for you ${
          fee.feeMsat === 0n
            ? 'none (the LSP opened the channel and pays it)'
            : `about ${sat(fee.feeMsat)} sat at today's rates${fee.force ? ', taken from your side when it is swept' : ''}`
        }${fee.notice ? `\nnote: ${fee.notice}; closing costs more than usual too` : ''}`,
      );
      if (!flags.yes && !(await confirm(`${fee.force ? 'force-close' : 'close'} it? [y/N] `)))
        throw new CliError(
          'DECLINED',
          flags.yes === undefined && !process.stdin.isTTY
            ? 'not closed: pass --yes to close without a question'
            : 'not closed',
        );
      const closed = await wallet.closeChannel(fee.channelId, { force: fee.force });
      const wait =
        flags.force && closed.toSelfDelay !== undefined
          ? `; your side waits ${closed.toSelfDelay} blocks (~${hoursOf(closed.toSelfDelay)} h) after it confirms, then is swept to the on-chain wallet (see sweeps)`
          : '; the money is in the on-chain wallet once it confirms';
      out.emit(
        'closed',
        { ...closed, force: flags.force ?? false },
        `${flags.force ? 'force-closed' : 'closed'} ${closed.channelId}: closing transaction ${closed.closingTxid}${wait}`,
      );
      return 0;
    }
    case 'sweeps': {
      printExits(wallet, out);
      return 0;
    }
    case 'onchain':
      return runOnchain(args[0]!, args[1], flags, wallet, out);
    case 'l402': {
      const url = required(args[1], 'URL');
      const maxSats = required(bigintFlag(flags['max-sats'], 'max-sats'), '--max-sats');
      const maxFeeSat = bigintFlag(flags['max-fee-sats'], 'max-fee-sats');
      const result = await wallet.l402Fetch(url, {
        maxSats,
        ...(maxFeeSat !== undefined ? { maxFeeMsat: maxFeeSat * 1000n } : {}),
      });
      const body = await result.response.text();
      if (flags.json)
        out.emit(
          'l402',
          { status: result.response.status, paid: result.paid ?? null, reused: result.reused, body },
          '',
        );
      else {
        if (result.paid)
          process.stderr.write(
            `paid ${sat(result.paid.amountMsat)} sat + ${sat(result.paid.feeMsat)} fee for access\n`,
          );
        if (result.reused) process.stderr.write('used a token bought earlier: nothing paid\n');
        process.stdout.write(body.endsWith('\n') ? body : `${body}\n`);
      }
      return result.response.ok ? 0 : 1;
    }
  }
  return 2;
}

async function runStream(flags: Flags, wallet: Wallet, out: Output): Promise<number> {
  const onProgress = progressPrinter(out);
  let handle: StreamHandle;
  if (flags.resume) {
    handle = await wallet.resumeStream(flags.resume, { onProgress });
  } else {
    const to = required(flags.to, '--to NODE_ID or Lightning Address');
    const satsPerMinute = required(
      bigintFlag(flags['sats-per-minute'], 'sats-per-minute', 1n),
      '--sats-per-minute',
    );
    const budgetSats = required(bigintFlag(flags['budget-sats'], 'budget-sats', 1n), '--budget-sats');
    let untilMs: number;
    if (flags.until) {
      untilMs = Date.parse(flags.until);
      if (Number.isNaN(untilMs))
        throw new CliError('USAGE', `--until expects an ISO time, got "${flags.until}"`);
    } else {
      const minutes = Number(required(flags.minutes, '--until ISO or --minutes M'));
      if (!(minutes > 0)) throw new CliError('USAGE', '--minutes must be positive');
      untilMs = Date.now() + minutes * 60_000;
    }
    const periodMs = flags['period-ms']
      ? Number(bigintFlag(flags['period-ms'], 'period-ms', 10n))
      : flags['per-second']
        ? 1000
        : 60_000;
    const onRestart = flags['on-restart'] ?? 'resume';
    if (onRestart !== 'resume' && onRestart !== 'stop')
      throw new CliError('USAGE', '--on-restart is resume or stop');
    const maxFee = bigintFlag(flags['max-fee-msat-per-payment'], 'max-fee-msat-per-payment');
    const growth = expectedMonitorGrowth(periodMs, Date.now(), untilMs);
    if (growth > 1024 * 1024)
      process.stderr.write(
        `warning: ~${Math.round(growth / 1024 / 1024)} MB of channel-state growth (one payment every ${periodMs} ms, ~${MONITOR_BYTES_PER_PAYMENT} B each, kept until the channel closes)${growth > BACKUP_BLOB_LIMIT_BYTES ? '; beyond the LSP backup limit of 4 MB' : ''}: consider a longer --period-ms (default 60000)\n`,
      );
    handle = await wallet.stream(
      {
        to,
        satsPerMinute,
        budgetSats,
        untilMs,
        periodMs,
        onRestart,
        ...(maxFee !== undefined ? { maxFeeMsatPerPayment: maxFee } : {}),
      },
      { onProgress },
    );
  }
  const started = wallet.ledger.get(handle.id);
  out.emit('started', streamJson(started), `stream ${handle.id}: ${streamLine(started)}`);
  const onSigint = () => handle.stop();
  const onPause = () => void handle.pause();
  const onResume = () => void handle.resume();
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  process.on('SIGUSR1', onPause);
  process.on('SIGUSR2', onResume);
  try {
    const final = await handle.done;
    out.emit('done', streamJson(final), `stream ${final.id} ${streamLine(final)}`);
    return final.state === 'failed' ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    process.off('SIGUSR1', onPause);
    process.off('SIGUSR2', onResume);
  }
}

function printChannels(wallet: Wallet, out: Output): void {
  const channels = wallet.node.listChannels();
  for (const c of channels)
    out.emit(
      'channel',
      {
        channelId: c.channelId,
        peerId: c.peerId,
        capacityMsat: c.capacityMsat,
        outboundMsat: c.outboundMsat,
        inboundMsat: c.inboundMsat,
        isUsable: c.isUsable,
        toSelfDelay: c.toSelfDelay,
      },
      `${c.channelId}  ${c.isUsable ? 'usable' : 'not usable'}  ours ${sat(c.outboundMsat)} sat, can receive ${sat(c.inboundMsat)} sat of ${sat(c.capacityMsat)}${c.toSelfDelay !== undefined ? `, a force close waits ${c.toSelfDelay} blocks` : ''}`,
    );
  if (channels.length === 0 && !wallet.lspReachable) process.stderr.write('no open channel\n');
  printExits(wallet, out, false);
}

/** Closing channels with their countdown, then (with `sweeps`) the outputs being swept. */
function printExits(wallet: Wallet, out: Output, withSweeps = true): void {
  for (const c of wallet.node.onchainPayment.closingChannels())
    out.emit(
      'closing',
      { ...c },
      `${c.channelId}  closing: ${sat(c.claimableMsat)} sat ${c.blocksLeft === undefined ? 'waiting for the closing transaction to confirm' : c.blocksLeft === 0 ? 'claimable now' : `in ${c.blocksLeft} blocks (~${c.hoursLeft} h)`}`,
    );
  if (!withSweeps) return;
  for (const s of wallet.node.onchainPayment.pendingSweeps())
    out.emit('sweep', { ...s }, `${s.outpoint}  sweeping ${sat(s.amountMsat)} sat: ${s.status}`);
}

async function runOnchain(
  sub: string,
  destination: string | undefined,
  flags: Flags,
  wallet: Wallet,
  out: Output,
): Promise<number> {
  const onchain = wallet.node.onchainPayment;
  if (sub === 'balance') {
    // the node's buckets: the wallet's coins, and what closed channels still owe it (never both)
    const b = wallet.node.balances();
    const view = {
      confirmedMsat: b.onchainConfirmedMsat,
      unconfirmedMsat: b.onchainUnconfirmedMsat,
      closingMsat: b.closingMsat,
    };
    out.emit('onchain-balance', view, [
      `confirmed    ${sat(view.confirmedMsat)} sat`,
      `unconfirmed  ${sat(view.unconfirmedMsat)} sat`,
      `closing      ${sat(view.closingMsat)} sat`,
    ]);
    return 0;
  }
  if (sub === 'address') {
    const address = await onchain.receiveAddress();
    out.emit('onchain-address', { address }, address);
    return 0;
  }
  const amountSat = bigintFlag(flags['amount-sats'], 'amount-sats', 1n);
  if (amountSat !== undefined && flags.all)
    throw new CliError('USAGE', '--amount-sats and --all exclude each other');
  const prepared = onchain.prepareSend({
    destination: required(destination, 'ADDRESS or bitcoin: URI'),
    ...(flags.all
      ? { amountMsat: 'all' as const }
      : amountSat !== undefined
        ? { amountMsat: amountSat * 1000n }
        : {}),
  });
  out.emit(
    'onchain-fee',
    { ...prepared },
    `send ${sat(prepared.amountMsat)} sat to ${prepared.address}: network fee ${sat(prepared.feeMsat)} sat (${prepared.feerateSatPerVb} sat/vB), ${sat(prepared.amountMsat + prepared.feeMsat)} sat in all`,
  );
  if (!flags.yes && !(await confirm('send it? [y/N] ')))
    throw new CliError(
      'DECLINED',
      flags.yes === undefined && !process.stdin.isTTY
        ? 'not sent: pass --yes to send without a question'
        : 'not sent',
    );
  const txid = await onchain.send(prepared);
  out.emit('onchain-sent', { txid, ...prepared }, `sent: ${txid}`);
  return 0;
}

/** Asks on the terminal; without one (scripts) the answer is no. */
/** `pay lno1…`: what the offer says first, then the payment. */
async function payOffer(offer: string, flags: Flags, wallet: Wallet, out: Output): Promise<number> {
  const amountSat = bigintFlag(flags['amount-sats'], 'amount-sats', 1n);
  const maxFeeSat = bigintFlag(flags['max-fee-sats'], 'max-fee-sats');
  const summary = wallet.describeOffer(offer);
  out.emit(
    'offer',
    {
      description: summary.description ?? null,
      amountMsat: summary.amountMsat ?? null,
      issuer: summary.issuer ?? null,
      expiresAt: summary.expiresAt === undefined ? null : new Date(summary.expiresAt * 1000).toISOString(),
    },
    [
      `offer      ${summary.description ?? '(no description)'}${summary.issuer ? ` from ${summary.issuer}` : ''}`,
      `amount     ${summary.amountMsat === undefined ? 'chosen by the payer' : `${sat(summary.amountMsat)} sat`}`,
      ...(summary.expiresAt === undefined
        ? []
        : [`expires    ${new Date(summary.expiresAt * 1000).toISOString()}`]),
    ],
  );
  const paid = await wallet.payOffer(summary.offer, {
    ...(amountSat !== undefined ? { amountMsat: amountSat * 1000n } : {}),
    ...(maxFeeSat !== undefined ? { maxFeeMsat: maxFeeSat * 1000n } : {}),
  });
  out.emit(
    'paid',
    { ...paid },
    `paid ${sat(paid.amountMsat)} sat, fee ${sat(paid.feeMsat)} sat (preimage ${paid.preimage})`,
  );
  return 0;
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** What a restore found, said before the node starts. */
function printRestore(out: Output, report: RestoreReport): void {
  if (report.rollbackReport)
    out.emit(
      'rollback',
      { report: report.rollbackReport, copies: report.copies },
      `warning: ${report.rollbackReport}`,
    );
  const r = report.restored;
  if (r)
    out.emit(
      'restore',
      { ...r, createdAt: new Date(r.createdAtMs).toISOString(), copies: report.copies },
      `restoring backup version ${r.version} from ${r.source === 'lsp' ? 'your LSP' : 'the backup file'} (made ${new Date(r.createdAtMs).toISOString()}, ${r.channels} channel(s))`,
    );
  else
    out.emit(
      'restore',
      { source: null, copies: report.copies },
      'no valid backup of this wallet was found: starting from the words alone',
    );
}

/**
 * After a restore: the restored channels were closed without broadcasting anything; the LSP answers
 * by publishing its latest commitment, which pays our balance to our on-chain wallet. Waits (up to
 * --timeout) until each close is seen, and says where the money is.
 */
async function finishRestore(wallet: Wallet, out: Output, flags: Flags, dir: string): Promise<number> {
  const seedFile = join(dir, 'seed.txt');
  const restoredChannels = wallet.restored?.restored?.channels ?? 0;
  out.emit('initialized', { dir, seedFile, restored: wallet.restored?.restored?.version ?? null }, [
    `wallet restored in ${dir}`,
    `seed: ${seedFile} (mode 0600) — this file IS the wallet's key: back it up, never share it`,
  ]);
  const timeoutMs =
    Number(bigintFlag(flags.timeout, 'timeout', 0n) ?? (restoredChannels > 0 ? 60n : 15n)) * 1000;
  out.emit(
    'recovering',
    { channels: restoredChannels },
    restoredChannels > 0
      ? "your channel is being closed so your money comes back on chain; waiting for the LSP's closing transaction…"
      : 'if your LSP had a channel with this wallet, it closes it now and your balance comes back on chain; looking for its closing transaction…',
  );
  const deadline = Date.now() + timeoutMs;
  let channels = await wallet.recovery();
  const settled = () =>
    restoredChannels > 0
      ? channels.every((c) => c.stage !== 'awaiting-peer-close')
      : channels.some((c) => c.stage !== 'awaiting-peer-close');
  while (!settled() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2_000));
    channels = await wallet.recovery();
  }
  out.emit(
    'recovery',
    { channels },
    channels.length > 0
      ? channels.map(recoveryLine)
      : ['no channel close found yet: `lpw-wallet balance` shows it when the LSP publishes one'],
  );
  return 0;
}

function recoveryLine(c: RecoveryChannel): string {
  const channel = c.channelId
    ? `channel ${c.channelId.slice(0, 16)}…`
    : `channel at ${c.fundingTxo.slice(0, 16)}…`;
  switch (c.stage) {
    case 'awaiting-peer-close':
      return `${channel}: closed on our side${c.closedAtMs ? ` at ${new Date(c.closedAtMs).toISOString()}` : ''}; waiting for the LSP's closing transaction (it pays your balance to your on-chain wallet)`;
    case 'close-unconfirmed':
      return `${channel}: the LSP's closing transaction ${c.closingTxid} is waiting to be mined; ${sat(c.recoveredMsat)} sat come back to your on-chain wallet when it is`;
    case 'close-confirmed':
      return `${channel}: closed by ${c.closingTxid} (${c.confirmations} confirmation(s)); ${sat(c.recoveredMsat)} sat are in your on-chain wallet`;
  }
}

const DAY_MS = 86_400_000;

function backupJson(status: {
  version: number;
  lastGoodAt?: number | null;
  behindBy: number;
  fenced: boolean;
  problem?: { code: string; message: string } | null;
}) {
  return {
    version: status.version,
    lastGoodAt: isoOrDash(status.lastGoodAt),
    behindBy: status.behindBy,
    fenced: status.fenced,
    problem: status.problem ? { code: status.problem.code, message: status.problem.message } : null,
  };
}

/** `backup status` and `backup export FILE`: files only, no LSP, no lock. */
async function backupCommand(args: string[], dir: string, out: Output): Promise<number> {
  if (args[0] === 'export') {
    const file = required(args[1], 'FILE (backup export FILE)');
    const header = await exportBackup(dir, resolve(file));
    out.emit(
      'backup-exported',
      {
        file: resolve(file),
        version: header.version,
        channels: header.channels,
        createdAt: new Date(header.createdAtMs).toISOString(),
      },
      `backup version ${header.version} (${header.channels} channel(s), made ${new Date(header.createdAtMs).toISOString()}) written to ${resolve(file)}`,
    );
    return 0;
  }
  if (args[0] !== 'status') throw new CliError('USAGE', 'usage: backup status | backup export FILE');
  const { copy, status } = backupReport(dir);
  const lastGoodAt = status?.lastGoodAt ?? null;
  const warnings: string[] = [];
  if (!copy) warnings.push('no backup yet: the LSP has never confirmed one from this directory');
  if (status?.fenced) warnings.push('another device took this wallet over: this directory must not run it');
  if (status && status.behindBy > 0)
    warnings.push(
      `${status.behindBy} channel update(s) are in no backup yet: run the wallet while the LSP is reachable`,
    );
  if (status?.problem)
    warnings.push(`the last upload failed: ${status.problem.code}: ${status.problem.message}`);
  if (lastGoodAt !== null && Date.now() - lastGoodAt > 7 * DAY_MS)
    warnings.push(`the last good backup is ${Math.floor((Date.now() - lastGoodAt) / DAY_MS)} days old`);
  out.emit(
    'backup-status',
    {
      version: copy?.version ?? null,
      channels: copy?.channels ?? null,
      bytes: copy?.bytes ?? null,
      createdAt: copy ? new Date(copy.createdAtMs).toISOString() : null,
      lastGoodAt: lastGoodAt === null ? null : new Date(lastGoodAt).toISOString(),
      behindBy: status?.behindBy ?? 0,
      fenced: status?.fenced ?? false,
      problem: status?.problem ?? null,
      warnings,
    },
    [
      copy
        ? `backup     version ${copy.version}, ${copy.channels} channel(s), ${copy.bytes} B, made ${new Date(copy.createdAtMs).toISOString()}`
        : 'backup     none yet',
      `last good  ${isoOrDash(lastGoodAt)}`,
      `behind by  ${status?.behindBy ?? 0} channel update(s)`,
      ...warnings.map((w) => `warning: ${w}`),
    ],
  );
  return 0;
}

function progressPrinter(out: Output) {
  let lastMs = 0;
  return (p: { kind: string; stream: StreamRecord; period?: number; reason?: string; code?: string }) => {
    if (p.kind === 'waiting' || p.kind === 'going') {
      out.emit(
        p.kind === 'waiting' ? 'stream-waiting' : 'stream-going',
        { id: p.stream.id, code: p.code, reason: p.reason },
        p.kind === 'waiting' ? `waiting: ${p.reason}` : 'paying again',
      );
      return;
    }
    if (p.kind === 'failed') {
      out.emit(
        'period-failed',
        { id: p.stream.id, period: p.period, reason: p.reason },
        `period ${p.period} failed: ${p.reason}`,
      );
      return;
    }
    if (p.kind === 'state') return;
    const now = Date.now();
    if (now - lastMs < 5_000) return;
    lastMs = now;
    out.emit('progress', streamJson(p.stream), streamLine(p.stream));
  };
}

/** A node id shortened; a Lightning Address or LNURL as given. */
function shortRecipient(to: string): string {
  return /^0[23][0-9a-f]{64}$/.test(to) ? `${to.slice(0, 16)}…` : to;
}

function streamJson(s: StreamRecord): Record<string, unknown> {
  return { ...s, startAt: new Date(s.startMs).toISOString(), endAt: new Date(s.endMs).toISOString() };
}

function streamLine(s: StreamRecord): string {
  return `${s.state}${s.stopReason ? ` (${s.stopReason})` : ''} → ${shortRecipient(s.payee)} ${s.satsPerMinute} sat/min every ${s.periodMs} ms: ${s.paidCount} payments, ${sat(s.paidMsat)} sat + ${sat(s.feeMsat)} fee of ${sat(s.budgetMsat)} budget, until ${new Date(s.endMs).toISOString()}`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const error = isCliError(e)
      ? e
      : e instanceof Error && 'code' in e && e.name === 'TypeError'
        ? new CliError('USAGE', e.message)
        : toCliError(e);
    const json = process.argv.includes('--json');
    if (json)
      process.stderr.write(`${toJson({ event: 'error', code: error.code, message: error.message })}\n`);
    else process.stderr.write(`error ${error.code}: ${error.message}\n`);
    process.exit(error.exitCode);
  },
);
