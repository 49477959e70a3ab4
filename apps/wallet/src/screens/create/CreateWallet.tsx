// Create: show 12 fresh words, have three of them typed back, then choose the lock that encrypts them.
import { useMemo, useState } from 'react';
import { Notice } from '../../components/ui.tsx';
import { createMnemonic } from '../../lib/vault.ts';
import { useSession } from '../../stores/session.ts';
import { LockForm } from '../lock/LockForm.tsx';

function pickThree(): number[] {
  const picks = new Set<number>();
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  for (const b of bytes) {
    picks.add(b % 12);
    if (picks.size === 3) break;
  }
  return [...picks].sort((a, b) => a - b);
}

export function CreateWallet(props: { onCancel: () => void }) {
  const words = useMemo(() => createMnemonic().split(' '), []);
  const checks = useMemo(pickThree, []);
  const [step, setStep] = useState<'show' | 'confirm' | 'pin'>('show');
  const [answers, setAnswers] = useState<string[]>(['', '', '']);
  const [error, setError] = useState<string>();
  const createWallet = useSession((s) => s.createWallet);

  if (step === 'show') {
    return (
      <main className="frame" data-testid="screen-create-words">
        <header className="bar">
          <button type="button" className="back" onClick={props.onCancel} aria-label="Back">
            ‹
          </button>
          <h1>Your recovery words</h1>
          <span className="back-spacer" />
        </header>
        <div className="content">
          <p>
            Write these 12 words on paper, in order. They are the only way to get your money back if you lose
            this device.
          </p>
          <ol className="words" data-testid="recovery-words">
            {words.map((w, i) => (
              <li key={`${i}-${w}`}>
                <span className="n">{i + 1}</span> <span className="w">{w}</span>
              </li>
            ))}
          </ol>
          <Notice tone="warn">Never share them. Anyone with these words can take your money.</Notice>
          <div className="actions">
            <button type="button" className="primary" onClick={() => setStep('confirm')}>
              I wrote them down
            </button>
          </div>
        </div>
      </main>
    );
  }

  if (step === 'confirm') {
    const submit = (e: React.FormEvent) => {
      e.preventDefault();
      const wrong = checks.findIndex((n, i) => answers[i]!.trim().toLowerCase() !== words[n]);
      if (wrong >= 0) setError(`Word #${checks[wrong]! + 1} does not match. Check your paper.`);
      else {
        setError(undefined);
        setStep('pin');
      }
    };
    return (
      <main className="frame" data-testid="screen-create-confirm">
        <header className="bar">
          <button type="button" className="back" onClick={() => setStep('show')} aria-label="Back">
            ‹
          </button>
          <h1>Check your words</h1>
          <span className="back-spacer" />
        </header>
        <form className="content" onSubmit={submit}>
          <p>Type these words from your paper.</p>
          {checks.map((n, i) => (
            <label key={n} className="field">
              <span>Word #{n + 1}</span>
              <input
                autoCapitalize="none"
                autoComplete="off"
                spellCheck={false}
                name={`word-${n + 1}`}
                value={answers[i]}
                onChange={(e) => setAnswers(answers.map((a, j) => (j === i ? e.target.value : a)))}
              />
            </label>
          ))}
          {error && <Notice tone="error">{error}</Notice>}
          <div className="actions">
            <button type="submit" className="primary">
              Continue
            </button>
          </div>
        </form>
      </main>
    );
  }

  return (
    <LockForm
      title="Lock your wallet"
      intro="This locks the wallet on this device. Your words, not this lock, restore it elsewhere."
      lock="choose"
      submitLabel="Create wallet"
      testId="screen-create-pin"
      onCancel={() => setStep('show')}
      onSubmit={(choice) => createWallet(words.join(' '), choice)}
    />
  );
}
