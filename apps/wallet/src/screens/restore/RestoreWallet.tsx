// Restore: the 12 words (and, if the person has one, an exported backup file), then a lock for this
// device (PIN, passphrase or passkey); the channel state comes from the newest valid copy: the LSP's, this device's or the file.
import { useState } from 'react';
import { Notice } from '../../components/ui.tsx';
import { normaliseMnemonic, VaultError } from '../../lib/vault.ts';
import { type LockChoice, useSession } from '../../stores/session.ts';
import { LockForm } from '../lock/LockForm.tsx';

/** `restore`: what the words and lock do (default: restore on a device without a wallet). */
export function RestoreWallet(props: {
  onCancel: () => void;
  restore?: (mnemonic: string, lock: LockChoice, backupFile?: Uint8Array) => Promise<void>;
}) {
  const [text, setText] = useState('');
  const [phrase, setPhrase] = useState<string>();
  const [error, setError] = useState<string>();
  const [file, setFile] = useState<Uint8Array>();
  const restoreOnNewDevice = useSession((s) => s.restoreWallet);
  const restoreWallet = props.restore ?? restoreOnNewDevice;
  if (phrase) {
    return (
      <LockForm
        title="Lock your wallet"
        intro="This locks the wallet on this device."
        lock="choose"
        submitLabel="Restore wallet"
        testId="screen-restore-pin"
        onCancel={() => setPhrase(undefined)}
        onSubmit={(choice) => restoreWallet(phrase, choice, file)}
      />
    );
  }
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    try {
      setPhrase(normaliseMnemonic(text));
    } catch (err) {
      setError(err instanceof VaultError ? err.message : String(err));
    }
  };
  return (
    <main className="frame" data-testid="screen-restore">
      <header className="bar">
        <button type="button" className="back" onClick={props.onCancel} aria-label="Back">
          ‹
        </button>
        <h1>Restore</h1>
        <span className="back-spacer" />
      </header>
      <form className="content" onSubmit={submit}>
        <p>Enter your 12 recovery words, separated by spaces.</p>
        <label className="field">
          <span>Recovery words</span>
          <textarea
            name="words"
            rows={4}
            autoCapitalize="none"
            autoComplete="off"
            spellCheck={false}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Backup file (optional)</span>
          <input
            type="file"
            name="backup-file"
            data-testid="restore-file"
            onChange={(e) => {
              const chosen = e.target.files?.[0];
              if (chosen) void chosen.arrayBuffer().then((b) => setFile(new Uint8Array(b)));
              else setFile(undefined);
            }}
          />
        </label>
        <Notice tone="info">
          Your channel comes back from the encrypted backup your service provider keeps, or from a backup file
          you exported, whichever is newer. Close the wallet on any other device first.
        </Notice>
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
