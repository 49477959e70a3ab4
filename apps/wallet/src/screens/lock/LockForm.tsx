// The vault's lock, asked for or chosen: a PIN (numeric keypad on phones), a passphrase, or a passkey
// where the browser's passkeys can derive keys. Choosing asks for the text twice.
import { useEffect, useState } from 'react';
import { Notice } from '../../components/ui.tsx';
import { inWords } from '../../lib/messages.ts';
import { passkeysAvailable } from '../../lib/passkey.ts';
import { type LockKind, MIN_PASSPHRASE_LENGTH, MIN_PIN_LENGTH } from '../../lib/vault.ts';
import type { LockChoice } from '../../stores/session.ts';

const NAMES: Record<LockKind, string> = { pin: 'PIN', passphrase: 'Passphrase', passkey: 'Passkey' };
const HINTS: Record<LockKind, string> = {
  pin: 'Quick to type. Stops someone who picks up your phone, not someone who copies its storage.',
  passphrase: 'A few words only you know. Much harder to guess if this device’s storage is copied.',
  passkey: 'Your phone’s screen lock or security key opens the wallet. Nothing to remember or guess.',
};

export function LockForm(props: {
  title: string;
  intro?: string;
  submitLabel: string;
  testId: string;
  onCancel?: () => void;
  /** 'choose': a new lock (create, restore); else the kind the stored wallet has. */
  lock: LockKind | 'choose';
  onSubmit: (choice: LockChoice) => Promise<unknown>;
  /** Below the form's actions (the lock screen's way out when the lock is forgotten). */
  footer?: React.ReactNode;
}) {
  const choosing = props.lock === 'choose';
  const [kind, setKind] = useState<LockKind>(props.lock === 'choose' ? 'pin' : props.lock);
  const [kinds, setKinds] = useState<LockKind[]>(['pin', 'passphrase']);
  const [text, setText] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (choosing) void passkeysAvailable().then((yes) => yes && setKinds(['pin', 'passphrase', 'passkey']));
  }, [choosing]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (kind === 'pin' && text.length < MIN_PIN_LENGTH)
      return setError(`Use at least ${MIN_PIN_LENGTH} digits.`);
    if (kind === 'passphrase' && text.length < MIN_PASSPHRASE_LENGTH)
      return setError(`Use at least ${MIN_PASSPHRASE_LENGTH} characters.`);
    if (choosing && kind !== 'passkey' && text !== again) return setError(`The two ${NAMES[kind]}s differ.`);
    setBusy(true);
    setError(undefined);
    try {
      await props.onSubmit(kind === 'passkey' ? { kind } : { kind, text });
    } catch (err) {
      setError(inWords(err));
      setBusy(false);
    }
  };
  const field = (name: string, label: string, value: string, onChange: (value: string) => void) => (
    <label className="field">
      <span>{label}</span>
      <input
        type="password"
        name={name}
        inputMode={kind === 'pin' ? 'numeric' : 'text'}
        autoComplete={choosing ? 'new-password' : 'current-password'}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </label>
  );
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
        {choosing && (
          <fieldset className="units">
            <legend>Lock this wallet with</legend>
            {kinds.map((k) => (
              <label key={k} className="radio">
                <input
                  type="radio"
                  name="lock"
                  value={k}
                  checked={kind === k}
                  onChange={() => {
                    setKind(k);
                    setText('');
                    setAgain('');
                    setError(undefined);
                  }}
                />
                {NAMES[k]}
              </label>
            ))}
            <p className="small muted">{HINTS[kind]}</p>
          </fieldset>
        )}
        {kind !== 'passkey' && field(kind, NAMES[kind], text, setText)}
        {choosing && kind !== 'passkey' && field(`${kind}-again`, `${NAMES[kind]} again`, again, setAgain)}
        {error && <Notice tone="error">{error}</Notice>}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy
              ? 'Please wait…'
              : kind === 'passkey' && !choosing
                ? `${props.submitLabel} with passkey`
                : props.submitLabel}
          </button>
        </div>
        {props.footer}
      </form>
    </main>
  );
}
