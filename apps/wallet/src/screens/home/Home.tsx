// Home: the balance, one pair of actions (receive, send), the wallet's state in words, and history.
import { Amount, Notice } from '../../components/ui.tsx';
import { useNav } from '../../stores/nav.ts';
import { useWallet } from '../../stores/wallet.ts';
import type { PaymentView, StreamView, WalletSnapshot } from '../../worker/protocol.ts';
import { recipient } from '../streams/Streams.tsx';

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
        from this device. Sending and receiving need the connection.{' '}
        <button type="button" className="link" onClick={retry}>
          Try again
        </button>
      </Notice>
    );
  return null;
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
    const last = b.savedAt === undefined ? 'has never been saved' : `was last saved ${when(b.savedAt)}`;
    return `Your channel backup at the LSP ${last}.${b.problem ? ` ${b.problem}` : ''} Keep the wallet open and online so it can catch up.`;
  }
  if (b.behindBy > 0 && b.behindSince !== undefined && now - b.behindSince > BEHIND_TOO_LONG_MS) {
    return `Your channel backup is ${b.behindBy} ${b.behindBy === 1 ? 'update' : 'updates'} behind since ${when(b.behindSince)}.${b.problem ? ` ${b.problem}` : ''}`;
  }
  return undefined;
}

function when(ms: number): string {
  const d = new Date(ms);
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

function PaymentRow(props: { p: PaymentView }) {
  const { p } = props;
  const sign = p.direction === 'inbound' ? '+' : '−';
  const label = p.description || (p.direction === 'inbound' ? 'Received' : 'Sent');
  const status = p.status === 'succeeded' ? '' : p.status === 'pending' ? 'Pending' : 'Failed';
  return (
    <li className={`payment ${p.status}`} data-testid="payment-row">
      <div className="what">
        <span className="label">{label}</span>
        <span className="meta">
          {when(p.createdAt)}
          {status && <span className={`tag ${p.status}`}> · {status}</span>}
          {p.feeMsat !== undefined && p.feeMsat > 0n && (
            <>
              {' '}
              · fee <Amount msat={p.feeMsat} round="ceil" />
            </>
          )}
        </span>
      </div>
      <span className={`sum ${p.direction}`}>
        {sign}
        {p.amountMsat !== undefined ? <Amount msat={p.amountMsat} /> : '?'}
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
          {when(s.createdMs)} · {s.paidCount} {s.paidCount === 1 ? 'payment' : 'payments'}
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
      </span>
    </li>
  );
}

type HistoryItem = { at: number; payment: PaymentView } | { at: number; stream: StreamView };

export function Home() {
  const snap = useWallet((s) => s.snapshot);
  const go = useNav((s) => s.go);
  const history: HistoryItem[] = [
    ...(snap?.payments ?? []).map((payment) => ({ at: payment.createdAt, payment })),
    ...(snap?.streams ?? []).map((stream) => ({ at: stream.lastPaidMs ?? stream.createdMs, stream })),
  ].sort((a, b) => b.at - a.at);
  const locked = snap?.status === 'locked-elsewhere';
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
        <section className="balance" aria-label="Balance">
          <span className="caption">Balance</span>
          <span className="big" data-testid="balance" data-msat={snap?.balanceMsat.toString()}>
            {locked ? '—' : <Amount msat={snap?.balanceMsat ?? 0n} />}
          </span>
        </section>
        <StatusLine snap={snap} />
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
        <button type="button" className="secondary" disabled={locked} onClick={() => go('streams')}>
          Streams
        </button>
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
