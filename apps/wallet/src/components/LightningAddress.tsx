// The wallet's Lightning Address (name@<its LSP's host>): the card Receive shows with a copy button,
// and the Settings section where the person claims a name, changes it or gives it up. Payments to it
// arrive while the wallet is open (its node makes each invoice); when it is closed payers are told so.
import { useState } from 'react';
import { inWords } from '../lib/messages.ts';
import { useNav } from '../stores/nav.ts';
import { useWallet } from '../stores/wallet.ts';
import { Notice } from './ui.tsx';

/** LUD-16's rule, checked here to say it at once; the LSP checks it again. */
const NAME = /^[a-z0-9._-]{1,64}$/;
const NAME_RULE = 'A name is 1 to 64 of a–z, 0–9, “-”, “_” and “.”.';

/** On Receive: the address to hand out, with a copy button, or where to get one. */
export function AddressCard() {
  const address = useWallet((s) => s.snapshot?.lightningAddress);
  const go = useNav((s) => s.go);
  const [copied, setCopied] = useState(false);
  if (!address)
    return (
      <p className="muted small" data-testid="no-lightning-address">
        No Lightning Address yet.{' '}
        <button type="button" className="link" onClick={() => go('settings')}>
          Choose one in Settings
        </button>
        .
      </p>
    );
  const copy = async () => {
    await navigator.clipboard.writeText(address);
    setCopied(true);
  };
  return (
    <div className="address-card" data-testid="receive-address">
      <span className="muted small">Your Lightning Address</span>
      <code className="mono" data-testid="lightning-address">
        {address}
      </code>
      <button type="button" className="secondary" data-testid="copy-address" onClick={() => void copy()}>
        {copied ? 'Copied' : 'Copy address'}
      </button>
      <span className="muted small">Payments to it arrive while this wallet is open.</span>
    </div>
  );
}

/** In Settings: claim a name, change it, or give it up. */
export function AddressSection() {
  const address = useWallet((s) => s.snapshot?.lightningAddress);
  const running = useWallet((s) => s.snapshot?.status === 'running');
  const claimAddress = useWallet((s) => s.claimAddress);
  const releaseAddress = useWallet((s) => s.releaseAddress);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; text: string }>();

  const act = async (work: () => Promise<string>) => {
    setBusy(true);
    setMessage(undefined);
    try {
      setMessage({ tone: 'ok', text: await work() });
    } catch (error) {
      setMessage({ tone: 'error', text: inWords(error) });
    } finally {
      setBusy(false);
    }
  };
  const claim = (e: React.FormEvent) => {
    e.preventDefault();
    // people type capitals; LUD-16 names are lowercase
    const wanted = name.trim().toLowerCase();
    if (!NAME.test(wanted)) return setMessage({ tone: 'error', text: NAME_RULE });
    void act(async () => {
      const claimed = await claimAddress(wanted);
      setName('');
      return `Your address is now ${claimed.address}.`;
    });
  };
  const release = () =>
    void act(async () => {
      await releaseAddress();
      return 'Your address is given up; anyone may take the name now.';
    });

  return (
    <fieldset className="units" data-testid="address-section">
      <legend>Your Lightning Address</legend>
      <p data-testid="address-current">
        {address ? (
          <>
            <code className="mono">{address}</code>: anyone can pay you at it while this wallet is open.
          </>
        ) : (
          'None yet. Choose a name: people pay you at name@your provider.'
        )}
      </p>
      <form onSubmit={claim}>
        <label className="field">
          <span>{address ? 'New name' : 'Name'}</span>
          <input
            name="address-name"
            autoCapitalize="none"
            autoComplete="off"
            spellCheck={false}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        {message && <Notice tone={message.tone}>{message.text}</Notice>}
        <div className="actions">
          <button type="submit" className="secondary" disabled={busy || !running} data-testid="claim-address">
            {address ? 'Change address' : 'Claim address'}
          </button>
          {address && (
            <button type="button" className="secondary" disabled={busy || !running} onClick={release}>
              Give up this address
            </button>
          )}
        </div>
      </form>
    </fieldset>
  );
}
