// Home: the balance, one pair of actions (receive, send), the wallet's state in words, and history.
// When the service provider has been gone longer than the Settings say, it offers the way out.
import type { ChainErrorCode } from '@lpw/node';
import { Amount, Fiat, Notice, useNow } from '../../components/ui.tsx';
import { dateTime } from '../../lib/time.ts';
import { formatAmount, type Unit } from '../../lib/units.ts';
import { useNav } from '../../stores/nav.ts';
import { useSettings } from '../../stores/settings.ts';
import { useWallet } from '../../stores/wallet.ts';
import type { PaymentView, StreamView, WalletSnapshot } from '../../worker/protocol.ts';
import { recipient } from '../streams/Streams.tsx';

/** How long an LSP may take to publish its closing transaction before the wallet says it is stalling. */
const PEER_CLOSE_EXPECTED_MS = 10 * 60_000;

/**
 * A restored wallet (or one another device ran since) closes its channels without publishing
 * anything, and the LSP's closing transaction brings the money back on chain: say where that is,
 * and, if the LSP does not close, exactly what it is doing.
 */
export function recoveryWords(snap: WalletSnapshot, now: number, unit: Unit): string | undefined {
  const formatSat = (msat: bigint) => formatAmount(msat, unit);
  const open = snap.recovery.filter((r) => r.stage !== 'close-confirmed');
  if (open.length === 0) {
    const arrived = snap.recovery.reduce((n, r) => n + r.recoveredMsat, 0n);
    return arrived > 0n
      ? `Recovered: ${formatSat(arrived)} from your closed channel arrived in your on-chain wallet.`
      : undefined;
  }
  const r = open[0]!;
  const expected =
    r.backupBalanceMsat !== undefined
      ? ` Your backup says about ${formatSat(r.backupBalanceMsat)} is yours in it.`
      : '';
  if (r.stage === 'close-unconfirmed')
    return `Your LSP published the closing transaction of your channel. ${formatSat(r.recoveredMsat)} arrive in your on-chain wallet with its first confirmation (usually about 10 minutes).`;
  const since = r.closedAtMs ?? now;
  if (snap.lsp.reachable && now - since > PEER_CLOSE_EXPECTED_MS)
    return `Your LSP has not closed your channel since ${dateTime(since)}, although your wallet asked it to when it connected. Until it publishes its closing transaction your money in that channel stays locked.${expected} Your wallet cannot close it alone: it was restored from a backup that may be older than the channel's last state, and publishing an old state would let the LSP take the whole channel. Nothing is lost while you wait.`;
  return `This wallet was restored, so its channel with your LSP is being closed to bring your money back safely.${expected} Waiting for the LSP to publish its closing transaction: it does so when your wallet connects to it, usually within a minute; then one confirmation takes about 10 minutes.`;
}

/**
 * The chain view failed a check (the wallet then acts on neither source), or half the window to
 * catch a revoked commitment has passed without a look at the chain.
 */
export function chainWatchWarning(snap: WalletSnapshot, now: number): string | undefined {
  const watch = snap.chainWatch;
  if (watch?.failure) return chainCheckWords(watch.failure.code, snap);
  if (!watch?.warnAtMs || now < watch.warnAtMs || snap.channels.length === 0) return undefined;
  return `Your wallet last checked the blockchain on ${dateTime(watch.lastSyncAtMs ?? now)}. Keep it online for a moment at least once a week: if your LSP ever published an old channel state, your wallet has about two weeks to answer it and keep your money.`;
}

function chainCheckWords(code: ChainErrorCode, snap: WalletSnapshot): string {
  const after =
    ' Your wallet is not acting on the chain until this clears. If it lasts, choose another chain source in Settings.';
  if (code === 'SOURCES_DISAGREE')
    return `Your two chain sources disagree about the blockchain (${host(snap.chainSource)} and ${host(snap.secondChainSource)}): one of them is behind, hiding a transaction, or lying.${after}`;
  const what =
    code === 'BAD_MERKLE_PROOF'
      ? 'a transaction proof that does not check out'
      : code === 'BAD_PROOF_OF_WORK' || code === 'BAD_DIFFICULTY'
        ? 'a block without valid proof of work'
        : code === 'CHAIN_ROLLBACK'
          ? 'a blockchain that takes back blocks your wallet already checked'
          : 'blocks that do not connect';
  return `Your chain source (${host(snap.chainSource)}) served ${what}: it cannot be trusted right now.${after}`;
}

/** A chain source as a person can tell two apart: host and path, no scheme. */
const host = (url: string | undefined): string => {
  try {
    if (!url) return 'unknown';
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname.replace(/\/$/, '')}`;
  } catch {
    return url ?? 'unknown';
  }
};

function StatusLine(props: { snap: WalletSnapshot | undefined }) {
  const retry = useWallet((s) => s.retry);
  const snap = props.snap;
  if (!snap || snap.status === 'starting' || snap.status === 'idle')
    return (
      <Notice tone="info" testId="status">
        Starting your wallet…
      </Notice>
    );
  if (snap.status === 'locked-elsewhere')
    return (
      <Notice tone="warn" testId="status-locked-elsewhere">
        {snap.statusReason}
      </Notice>
    );
  if (snap.status === 'fenced' || snap.status === 'failed')
    return (
      <Notice tone="error" testId="status-failed">
        {snap.statusReason}
      </Notice>
    );
  if (snap.status === 'offline' || !snap.lsp.reachable)
    return (
      <Notice tone="warn" testId="status-offline">
        {snap.status === 'offline' ? snap.statusReason : snap.lsp.problem} Your balance and history below are
        from this device. Lightning payments need the connection; on-chain sends and closes do not.{' '}
        <button type="button" className="link" onClick={retry}>
          Try again
        </button>
      </Notice>
    );
  return null;
}

/** "3 days", "5 hours", "12 minutes": how long something has lasted, roughly. */
function howLong(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 2) return 'a minute';
  if (minutes < 120) return `${minutes} minutes`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} hours` : `${Math.floor(hours / 24)} days`;
}

/**
 * The service provider has not answered for longer than the person set: say so plainly and offer
 * the exit (a force close, which needs nothing from it).
 */
function LeaveNotice(props: { snap: WalletSnapshot | undefined }) {
  const leaveAfterMs = useSettings((s) => s.leaveAfterMs);
  const go = useNav((s) => s.go);
  const now = useNow(5_000);
  const snap = props.snap;
  const since = snap?.lsp.lastSeenMs;
  if (!snap || snap.lsp.reachable || snap.channels.length === 0 || since === undefined) return null;
  if (now - since < leaveAfterMs) return null;
  return (
    <Notice tone="warn" testId="leave-notice">
      Your service provider has not answered for {howLong(now - since)}. Your money is still yours: you can
      close your channel without it, and the money moves to your on-chain wallet after a waiting time.{' '}
      <button type="button" className="link" onClick={() => go('channel')}>
        Take my money out
      </button>
    </Notice>
  );
}

const STALE_BACKUP_MS = 24 * 3600_000;
const BEHIND_TOO_LONG_MS = 5 * 60_000;

/**
 * The LSP's copy of the channel state, when it needs the person's attention: the LSP served an old,
 * missing or broken copy (said in words by the worker), the last good backup is older than a day
 * while channels are open, or channel updates have waited for the LSP for minutes.
 */
export function backupWarning(snap: WalletSnapshot, now: number): string | undefined {
  const b = snap.backup;
  if (b.warning) return b.warning;
  if (snap.status !== 'running') return undefined;
  if (snap.channels.length > 0 && (b.savedAt === undefined || now - b.savedAt > STALE_BACKUP_MS)) {
    const last = b.savedAt === undefined ? 'has never been saved' : `was last saved ${dateTime(b.savedAt)}`;
    return `Your channel backup at the LSP ${last}.${b.problem ? ` ${b.problem}` : ''} Keep the wallet open and online so it can catch up.`;
  }
  if (b.behindBy > 0 && b.behindSince !== undefined && now - b.behindSince > BEHIND_TOO_LONG_MS) {
    return `Your channel backup is ${b.behindBy} ${b.behindBy === 1 ? 'update' : 'updates'} behind since ${dateTime(b.behindSince)}.${b.problem ? ` ${b.problem}` : ''}`;
  }
  return undefined;
}

function PaymentRow(props: { p: PaymentView }) {
  const { p } = props;
  const sign = p.direction === 'inbound' ? '+' : '−';
  const label = p.description || (p.direction === 'inbound' ? 'Received' : 'Sent');
  const status = p.status === 'succeeded' ? '' : p.status === 'pending' ? 'Pending' : 'Failed';
  // an inbound fee is the LSP's for opening the channel: the Receive screen's words for it
  const feeWord = p.direction === 'inbound' ? 'channel fee' : 'fee';
  return (
    <li className={`payment ${p.status}`} data-testid="payment-row">
      <div className="what">
        <span className="label">{label}</span>
        <span className="meta">
          {dateTime(p.createdAt)}
          {status && <span className={`tag ${p.status}`}> · {status}</span>}
          {p.feeMsat !== undefined && p.feeMsat > 0n && (
            <>
              {' '}
              · {feeWord} <Amount msat={p.feeMsat} round="ceil" />
            </>
          )}
        </span>
      </div>
      <span className={`sum ${p.direction}`}>
        {sign}
        {p.amountMsat !== undefined ? <Amount msat={p.amountMsat} /> : '?'}
        {p.amountMsat !== undefined && <Fiat msat={p.amountMsat} />}
      </span>
    </li>
  );
}

/** A stream is ONE entry of history: its count, total and fees, however many payments it made. */
function StreamRow(props: { s: StreamView }) {
  const { s } = props;
  const go = useNav((n) => n.go);
  const live = s.state === 'running' || s.state === 'paused';
  return (
    <li className="payment stream" data-testid="stream-row" data-count={s.paidCount}>
      <button type="button" className="what link-row" onClick={() => go('streams')}>
        <span className="label">
          Stream to {recipient(s.payee)}
          {live ? ` · ${s.state === 'running' ? 'streaming' : 'paused'}` : ''}
        </span>
        <span className="meta">
          {dateTime(s.createdMs)} · {s.paidCount} {s.paidCount === 1 ? 'payment' : 'payments'}
          {s.feeMsat > 0n && (
            <>
              {' '}
              · fee <Amount msat={s.feeMsat} round="ceil" />
            </>
          )}
        </span>
      </button>
      <span className="sum outbound">
        −<Amount msat={s.paidMsat} />
        <Fiat msat={s.paidMsat} />
      </span>
    </li>
  );
}

type HistoryItem = { at: number; payment: PaymentView } | { at: number; stream: StreamView };

export function Home() {
  const snap = useWallet((s) => s.snapshot);
  const go = useNav((s) => s.go);
  const unit = useSettings((s) => s.unit);
  const history: HistoryItem[] = [
    ...(snap?.payments ?? []).map((payment) => ({ at: payment.createdAt, payment })),
    ...(snap?.streams ?? []).map((stream) => ({ at: stream.lastPaidMs ?? stream.createdMs, stream })),
  ].sort((a, b) => b.at - a.at);
  const locked = snap?.status === 'locked-elsewhere';
  // the node's buckets: the total less the channels is the on-chain wallet and what closes still owe it
  const onTheWay = (snap?.onchain.closingMsat ?? 0n) > 0n;
  const onchainMsat = (snap?.totalMsat ?? 0n) - (snap?.balanceMsat ?? 0n);
  return (
    <main className="frame home" data-testid="screen-home">
      <header className="bar">
        <button type="button" className="icon" onClick={() => go('channel')} aria-label="Channel">
          ◎
        </button>
        <h1>Wallet</h1>
        <button type="button" className="icon" onClick={() => go('settings')} aria-label="Settings">
          ⚙
        </button>
      </header>
      <div className="content">
        <section className="balance" aria-label="Balance" data-total-msat={snap?.totalMsat.toString()}>
          <span className="caption">Balance</span>
          <span className="big" data-testid="balance" data-msat={snap?.balanceMsat.toString()}>
            {locked ? '—' : <Amount msat={snap?.balanceMsat ?? 0n} />}
          </span>
          {snap && !locked && <Fiat msat={snap.balanceMsat} age testId="balance-fiat" />}
          {snap && onchainMsat > 0n && (
            <button
              type="button"
              className="link"
              data-testid="home-onchain"
              data-msat={onchainMsat.toString()}
              onClick={() => go('onchain')}
            >
              + <Amount msat={onchainMsat} /> on chain{onTheWay ? ', more on its way' : ''}
            </button>
          )}
        </section>
        <LeaveNotice snap={snap} />
        <StatusLine snap={snap} />
        {snap?.status === 'running' && snap.fees?.notice && (
          <Notice tone="warn" testId="fees-high">
            {snap.fees.notice.charAt(0).toUpperCase() + snap.fees.notice.slice(1)}.
          </Notice>
        )}
        {snap && recoveryWords(snap, Date.now(), unit) && (
          <Notice
            tone={snap.recovery.every((r) => r.stage === 'close-confirmed') ? 'ok' : 'warn'}
            testId="recovery-notice"
          >
            {recoveryWords(snap, Date.now(), unit)}
          </Notice>
        )}
        {snap && chainWatchWarning(snap, Date.now()) && (
          <Notice tone="warn" testId="chain-watch-warning">
            {chainWatchWarning(snap, Date.now())}
          </Notice>
        )}
        {snap && backupWarning(snap, Date.now()) && (
          <Notice tone="warn" testId="backup-warning">
            {backupWarning(snap, Date.now())}
          </Notice>
        )}
        <div className="pair">
          <button type="button" className="primary" disabled={locked} onClick={() => go('receive')}>
            Receive
          </button>
          <button type="button" className="primary" disabled={locked} onClick={() => go('send')}>
            Send
          </button>
        </div>
        <div className="pair">
          <button type="button" className="secondary" disabled={locked} onClick={() => go('streams')}>
            Streams
          </button>
          <button type="button" className="secondary" disabled={locked} onClick={() => go('onchain')}>
            On-chain
          </button>
        </div>
        <section aria-label="History">
          <h2>History</h2>
          {history.length === 0 ? (
            <p className="muted">No payments yet.</p>
          ) : (
            <ul className="history" data-testid="history">
              {history.map((item) =>
                'stream' in item ? (
                  <StreamRow key={item.stream.id} s={item.stream} />
                ) : (
                  <PaymentRow key={item.payment.id} p={item.payment} />
                ),
              )}
            </ul>
          )}
        </section>
      </div>
    </main>
  );
}
