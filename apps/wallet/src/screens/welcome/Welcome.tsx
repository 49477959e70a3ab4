// First screen on a device without a wallet: create one or restore one from its words.
import { useState } from 'react';
import { Notice } from '../../components/ui.tsx';
import { useSession } from '../../stores/session.ts';
import { CreateWallet } from '../create/CreateWallet.tsx';
import { RestoreWallet } from '../restore/RestoreWallet.tsx';

export function Welcome() {
  const [mode, setMode] = useState<'choose' | 'create' | 'restore'>('choose');
  const storage = useSession((s) => s.storage);
  if (mode === 'create') return <CreateWallet onCancel={() => setMode('choose')} />;
  if (mode === 'restore') return <RestoreWallet onCancel={() => setMode('choose')} />;
  const unavailable = storage?.kind === 'unavailable';
  return (
    <main className="frame welcome" data-testid="screen-welcome">
      <div className="content center">
        <div className="logo" aria-hidden="true">
          ⚡
        </div>
        <h1 className="title">Lightning Wallet</h1>
        <p className="lead">
          Your keys and your channel live on this device. Nobody else can spend your money.
        </p>
        {unavailable && (
          <Notice tone="error" testId="storage-unavailable">
            {storage.reason} A wallet cannot be kept here: open this page in a normal window.
          </Notice>
        )}
        <div className="actions">
          <button type="button" className="primary" disabled={unavailable} onClick={() => setMode('create')}>
            Create a new wallet
          </button>
          <button
            type="button"
            className="secondary"
            disabled={unavailable}
            onClick={() => setMode('restore')}
          >
            Restore from recovery words
          </button>
        </div>
      </div>
    </main>
  );
}
