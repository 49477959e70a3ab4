// The lock screen: the PIN, passphrase or passkey decrypts the words (in the worker), which start the node.
// Forgotten or lost, the words open the wallet again under a new lock (after a warning).
import { useState } from 'react';
import { Notice } from '../../components/ui.tsx';
import { lockOf } from '../../lib/vault.ts';
import { useSession } from '../../stores/session.ts';
import { RestoreWallet } from '../restore/RestoreWallet.tsx';
import { LockForm } from './LockForm.tsx';

export function Lock() {
  const unlock = useSession((s) => s.unlock);
  const restoreFromLock = useSession((s) => s.restoreFromLock);
  const lock = useSession((s) => (s.vault ? lockOf(s.vault) : 'pin'));
  const [mode, setMode] = useState<'unlock' | 'warn' | 'restore'>('unlock');
  if (mode === 'restore')
    return <RestoreWallet onCancel={() => setMode('unlock')} restore={restoreFromLock} />;
  if (mode === 'warn')
    return <ForgotWarning lock={lock} onBack={() => setMode('unlock')} onGo={() => setMode('restore')} />;
  return (
    <LockForm
      title="Unlock"
      intro={
        lock === 'passkey'
          ? 'Use your passkey to open your wallet.'
          : `Enter your ${lock === 'pin' ? 'PIN' : 'passphrase'} to open your wallet.`
      }
      lock={lock}
      submitLabel="Unlock"
      testId="screen-lock"
      onSubmit={(choice) => unlock(choice.kind === 'passkey' ? undefined : choice.text)}
      footer={
        <button type="button" className="link" onClick={() => setMode('warn')}>
          {lock === 'passkey' ? 'Passkey lost?' : 'Forgot?'} Restore from your words
        </button>
      }
    />
  );
}

function ForgotWarning(props: { lock: string; onBack: () => void; onGo: () => void }) {
  const what = props.lock === 'passkey' ? 'passkey' : props.lock === 'pin' ? 'PIN' : 'passphrase';
  return (
    <main className="frame" data-testid="screen-lock-forgot">
      <header className="bar">
        <button type="button" className="back" onClick={props.onBack} aria-label="Back">
          ‹
        </button>
        <h1>Restore from your words</h1>
        <span className="back-spacer" />
      </header>
      <div className="content">
        <p>
          Without your {what}, your 12 recovery words are the only way back into this wallet. You then choose
          a new lock.
        </p>
        <Notice tone="warn" testId="forgot-warning">
          Nobody can reset the {what} for you: not your service provider, not us. If the words you enter
          belong to another wallet, that wallet replaces this one on this device, and this one comes back only
          with its own words. This device keeps its wallet as it is until the words have opened one.
        </Notice>
        <div className="actions">
          <button type="button" className="primary" onClick={props.onGo}>
            I have my words, continue
          </button>
          <button type="button" className="secondary" onClick={props.onBack}>
            Back
          </button>
        </div>
      </div>
    </main>
  );
}
