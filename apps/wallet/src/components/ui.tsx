// Small shared pieces: screen frame with a back button, amounts in the chosen unit, status banner.
import type { ReactNode } from 'react';
import { formatAmount } from '../lib/units.ts';
import { useNav } from '../stores/nav.ts';
import { useSettings } from '../stores/settings.ts';
import { useWallet } from '../stores/wallet.ts';

export function Frame(props: { title: string; back?: boolean; children: ReactNode; testId?: string }) {
  const go = useNav((s) => s.go);
  return (
    <main className="frame" data-testid={props.testId}>
      <header className="bar">
        {props.back ? (
          <button type="button" className="back" onClick={() => go('home')} aria-label="Back">
            ‹
          </button>
        ) : (
          <span className="back-spacer" />
        )}
        <h1>{props.title}</h1>
        <span className="back-spacer" />
      </header>
      <div className="content">{props.children}</div>
    </main>
  );
}

export function Amount(props: { msat: bigint; round?: 'floor' | 'ceil'; testId?: string }) {
  const unit = useSettings((s) => s.unit);
  return <span data-testid={props.testId}>{formatAmount(props.msat, unit, props.round ?? 'floor')}</span>;
}

export function Notice(props: {
  tone: 'info' | 'warn' | 'error' | 'ok';
  children: ReactNode;
  testId?: string;
}) {
  return (
    <div
      className={`notice ${props.tone}`}
      role={props.tone === 'error' ? 'alert' : 'status'}
      data-testid={props.testId}
    >
      {props.children}
    </div>
  );
}

/** Why send/receive cannot work now, or undefined when they can. */
export function useBlocker(): string | undefined {
  const snap = useWallet((s) => s.snapshot);
  if (!snap) return 'Your wallet is starting…';
  if (snap.status === 'locked-elsewhere' || snap.status === 'fenced' || snap.status === 'failed')
    return snap.statusReason;
  if (snap.status !== 'running') return snap.statusReason ?? 'Your wallet is starting…';
  if (!snap.lsp.reachable) return snap.lsp.problem ?? 'Not connected to your service provider.';
  return undefined;
}
