// Small shared pieces: screen frame with a back button, amounts in the chosen unit and fiat, an
// invoice's time left, share or copy, status banner.
import { type ReactNode, useEffect, useState } from 'react';
import { formatFiat, rateFor } from '../lib/fiat.ts';
import { rateAge, timeLeft } from '../lib/time.ts';
import { formatAmount } from '../lib/units.ts';
import { useNav } from '../stores/nav.ts';
import { useRates } from '../stores/rates.ts';
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

/**
 * "≈ $20.00" in the currency chosen in Settings, and with `age` the rate's age once it is old ("rate
 * from 3 h ago"); nothing without a rate for it (sats only, never a wrong number).
 */
export function Fiat(props: { msat: bigint; age?: boolean; testId?: string }) {
  const currency = useSettings((s) => s.currency);
  const reading = useRates((s) => s.reading);
  const rate = rateFor(reading, currency);
  const text = rate && formatFiat(props.msat, rate);
  if (!text) return null;
  const old = props.age && rateAge(reading!.atMs, Date.now());
  return (
    <span className="fiat" data-testid={props.testId}>
      ≈ {text}
      {old && ` · rate from ${old}`}
    </span>
  );
}

/** The time now, updated every `everyMs` (countdowns, ages). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** "Expires in 4:05", live; "Expired" once it has. */
export function ExpiresIn(props: { expiresAt: number; now: number }) {
  const left = timeLeft(props.expiresAt - props.now);
  return (
    <span className={left ? 'muted' : 'expired'} data-testid="expires-in">
      {left ? `Expires in ${left}` : 'Expired'}
    </span>
  );
}

/**
 * Share (the Web Share API, where the browser has it: the phone's share sheet) and Copy, for an
 * invoice or offer someone else will pay.
 */
export function ShareOrCopy(props: { text: string; uri: string }) {
  const [copied, setCopied] = useState(false);
  const copy = () =>
    navigator.clipboard.writeText(props.text).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  // a cancelled share sheet rejects: nothing to tell the person
  const share = () => void navigator.share({ text: props.uri }).catch(() => {});
  return (
    <div className="pair">
      {typeof navigator.share === 'function' && (
        <button type="button" className="primary" onClick={share}>
          Share
        </button>
      )}
      <button type="button" className="secondary" onClick={copy}>
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
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
