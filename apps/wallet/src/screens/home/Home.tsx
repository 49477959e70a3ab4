// Home: the balance, one pair of actions (receive, send), the wallet's state in words, and history.
import { Amount, Notice } from '../../components/ui.tsx';
import { useNav } from '../../stores/nav.ts';
import { useWallet } from '../../stores/wallet.ts';
import type { PaymentView, WalletSnapshot } from '../../worker/protocol.ts';

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

export function Home() {
  const snap = useWallet((s) => s.snapshot);
  const go = useNav((s) => s.go);
  const payments = snap?.payments ?? [];
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
          <span className="big" data-testid="balance">
            {locked ? '—' : <Amount msat={snap?.balanceMsat ?? 0n} />}
          </span>
        </section>
        <StatusLine snap={snap} />
        <div className="pair">
          <button type="button" className="primary" disabled={locked} onClick={() => go('receive')}>
            Receive
          </button>
          <button type="button" className="primary" disabled={locked} onClick={() => go('send')}>
            Send
          </button>
        </div>
        <section aria-label="History">
          <h2>History</h2>
          {payments.length === 0 ? (
            <p className="muted">No payments yet.</p>
          ) : (
            <ul className="history" data-testid="history">
              {payments.map((p) => (
                <PaymentRow key={p.id} p={p} />
              ))}
            </ul>
          )}
        </section>
      </div>
    </main>
  );
}
