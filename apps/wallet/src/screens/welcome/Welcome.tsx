// First screen on a device without a wallet: choose the service provider (LSP; this copy of the app
// offers its default), then create a wallet or restore one from its words.
import { useState } from 'react';
import { Notice } from '../../components/ui.tsx';
import { CONNECTABLE_HINT, connectableUrl } from '../../lib/connect-url.ts';
import { useSession } from '../../stores/session.ts';
import { useSettings } from '../../stores/settings.ts';
import { CreateWallet } from '../create/CreateWallet.tsx';
import { RestoreWallet } from '../restore/RestoreWallet.tsx';

export function Welcome() {
  const [mode, setMode] = useState<'choose' | 'create' | 'restore'>('choose');
  const storage = useSession((s) => s.storage);
  const offered = useSettings((s) => s.lspUrl);
  const [lsp, setLsp] = useState(offered);
  const [problem, setProblem] = useState<string>();
  /** The LSP as typed becomes the setting the wallet starts with. */
  const proceed = async (next: 'create' | 'restore') => {
    const url = connectableUrl(lsp);
    if (!url) return setProblem(`The service provider’s address must be ${CONNECTABLE_HINT}.`);
    setProblem(undefined);
    await useSettings.getState().update({ lspUrl: url.origin });
    setMode(next);
  };
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
        <label className="field">
          <span>Service provider (LSP)</span>
          <input
            name="lsp-url"
            inputMode="url"
            placeholder="https://…"
            value={lsp}
            onChange={(e) => setLsp(e.target.value)}
          />
        </label>
        <p className="muted" data-testid="lsp-explained">
          It opens your channel and routes your payments. It can refuse service but never spend your money.
          You can change it in Settings while you have no channel.
        </p>
        {problem && <Notice tone="error">{problem}</Notice>}
        <div className="actions">
          <button
            type="button"
            className="primary"
            disabled={unavailable}
            onClick={() => void proceed('create')}
          >
            Create a new wallet
          </button>
          <button
            type="button"
            className="secondary"
            disabled={unavailable}
            onClick={() => void proceed('restore')}
          >
            Restore from recovery words
          </button>
        </div>
      </div>
    </main>
  );
}
