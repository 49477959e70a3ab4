// PIN entry (with confirmation when choosing one). Numeric keypad on phones; any passphrase works.
import { useState } from 'react';
import { Notice } from '../../components/ui.tsx';
import { inWords } from '../../lib/messages.ts';
import { MIN_PIN_LENGTH } from '../../lib/vault.ts';

export function PinForm(props: {
  title: string;
  intro?: string;
  confirm?: boolean;
  submitLabel: string;
  testId: string;
  onCancel?: () => void;
  onSubmit: (pin: string) => Promise<unknown>;
}) {
  const [pin, setPin] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (pin.length < MIN_PIN_LENGTH) return setError(`Use at least ${MIN_PIN_LENGTH} digits or characters.`);
    if (props.confirm && pin !== again) return setError('The two PINs differ.');
    setBusy(true);
    setError(undefined);
    try {
      await props.onSubmit(pin);
    } catch (err) {
      setError(inWords(err));
      setBusy(false);
    }
  };
  return (
    <main className="frame" data-testid={props.testId}>
      <header className="bar">
        {props.onCancel ? (
          <button type="button" className="back" onClick={props.onCancel} aria-label="Back">
            ‹
          </button>
        ) : (
          <span className="back-spacer" />
        )}
        <h1>{props.title}</h1>
        <span className="back-spacer" />
      </header>
      <form className="content" onSubmit={submit}>
        {props.intro && <p>{props.intro}</p>}
        <label className="field">
          <span>PIN</span>
          <input
            type="password"
            name="pin"
            inputMode="numeric"
            autoComplete={props.confirm ? 'new-password' : 'current-password'}
            value={pin}
            onChange={(e) => setPin(e.target.value)}
          />
        </label>
        {props.confirm && (
          <label className="field">
            <span>PIN again</span>
            <input
              type="password"
              name="pin-again"
              inputMode="numeric"
              autoComplete="new-password"
              value={again}
              onChange={(e) => setAgain(e.target.value)}
            />
          </label>
        )}
        {error && <Notice tone="error">{error}</Notice>}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Please wait…' : props.submitLabel}
          </button>
        </div>
      </form>
    </main>
  );
}
