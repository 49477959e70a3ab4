// Settings: LSP URL, chain source, units, fiat currency, fee cap, when to suggest leaving an unreachable LSP,
// budgets of paid (L402) sites, the channel backup (when last saved, export as a file), recovery
// words (behind the lock), lock.
import { useEffect, useState } from 'react';
import { AddressSection } from '../../components/LightningAddress.tsx';
import { SiteBudget } from '../../components/SiteBudget.tsx';
import { Frame, Notice } from '../../components/ui.tsx';
import { CONNECTABLE_HINT, connectableUrl } from '../../lib/connect-url.ts';
import { FIAT_CURRENCIES } from '../../lib/fiat.ts';
import { formatAmount, parseAmountInput } from '../../lib/units.ts';
import { useNav } from '../../stores/nav.ts';
import { useSession } from '../../stores/session.ts';
import { useSettings } from '../../stores/settings.ts';
import { RELEASE_KEY, useUpdates, VERSION } from '../../stores/updates.ts';
import { useWallet } from '../../stores/wallet.ts';
import { useWeb } from '../../stores/web.ts';

/** When the LSP last acknowledged a backup, and the signed, encrypted file of it for safekeeping. */
function BackupSection() {
  const backup = useWallet((s) => s.snapshot?.backup);
  const exportBackup = useWallet((s) => s.exportBackup);
  const [error, setError] = useState<string>();
  const download = async () => {
    setError(undefined);
    try {
      const file = await exportBackup();
      const url = URL.createObjectURL(
        new Blob([file.blob as BlobPart], { type: 'application/octet-stream' }),
      );
      const a = document.createElement('a');
      a.href = url;
      a.download = file.fileName;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <fieldset className="units" data-testid="backup-section">
      <legend>Channel backup</legend>
      <p data-testid="backup-saved-at">
        {backup?.savedAt
          ? `Last saved at your LSP ${new Date(backup.savedAt).toLocaleString()} (version ${backup.version}).`
          : 'Not saved at your LSP yet.'}
        {backup && backup.behindBy > 0
          ? ` ${backup.behindBy} newer ${backup.behindBy === 1 ? 'update' : 'updates'} waiting.`
          : ''}
      </p>
      {backup?.problem && <Notice tone="warn">{backup.problem}</Notice>}
      <p className="muted">
        A backup file is a copy your LSP does not control: restoring compares it with the LSP's copy and uses
        the newest. It is encrypted and signed with keys from your recovery words.
      </p>
      {error && <Notice tone="error">{error}</Notice>}
      <div className="actions">
        <button
          type="button"
          className="secondary"
          data-testid="export-backup"
          onClick={() => void download()}
        >
          Export backup file
        </button>
      </div>
    </fieldset>
  );
}

/** A chain source URL as typed: '' for none, null when it is not one the page may reach. */
function chainSourceUrl(typed: string): string | null {
  if (!typed.trim()) return '';
  return connectableUrl(typed)?.toString().replace(/\/$/, '') ?? null;
}

/** The wallet's own version, and a check for a newer signed one (the answer shows above the screen). */
function VersionSection() {
  const check = useUpdates((s) => s.check);
  const [checked, setChecked] = useState(false);
  return (
    <fieldset className="units" data-testid="version">
      <legend>This wallet</legend>
      <p>
        Version {VERSION}
        {RELEASE_KEY ? `, signed by release key ${RELEASE_KEY.slice(0, 16)}…` : ', unsigned (development)'}.
        Updates install only with this key’s signature and your agreement.
      </p>
      <div className="actions">
        <button type="button" className="secondary" onClick={() => void check().then(() => setChecked(true))}>
          Check for updates
        </button>
        {checked && (
          <p className="small muted">Checked. A newer version, if there is one, shows at the top.</p>
        )}
      </div>
    </fieldset>
  );
}

export function Settings() {
  const settings = useSettings();
  const lock = useSession((s) => s.lock);
  const go = useNav((s) => s.go);
  const [lspUrl, setLspUrl] = useState(settings.lspUrl);
  const [cap, setCap] = useState(String(settings.feeCapMsat / 1000n));
  const [esplora, setEsplora] = useState(settings.esploraUrl);
  const [secondEsplora, setSecondEsplora] = useState(settings.secondEsploraUrl);
  const [leaveHours, setLeaveHours] = useState(String(settings.leaveAfterMs / 3_600_000));
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; text: string }>();
  // a channel is with one LSP: another cannot take it over, so the LSP changes only without one
  const channelCount = useWallet((s) => s.snapshot?.channels.length ?? 0);
  const sites = Object.values(useWeb((s) => s.sites));
  const loadSites = useWeb((s) => s.loadSites);
  useEffect(() => void loadSites(), [loadSites]);

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    const url = connectableUrl(lspUrl);
    if (!url) return setMessage({ tone: 'error', text: `The LSP address must be ${CONNECTABLE_HINT}.` });
    if (url.origin !== settings.lspUrl && channelCount > 0)
      return setMessage({
        tone: 'error',
        text: `Close your channel first (Channel screen): it is with ${settings.lspUrl}, and another provider cannot take it over.`,
      });
    let capMsat: bigint | undefined;
    try {
      capMsat = parseAmountInput(cap, 'sat');
    } catch {
      return setMessage({ tone: 'error', text: 'The fee limit must be a whole number of sats.' });
    }
    const esploraUrl = chainSourceUrl(esplora);
    if (esploraUrl === null)
      return setMessage({
        tone: 'error',
        text: `The chain source must be ${CONNECTABLE_HINT} of an Esplora.`,
      });
    const secondEsploraUrl = chainSourceUrl(secondEsplora);
    if (secondEsploraUrl === null)
      return setMessage({
        tone: 'error',
        text: `The second chain source must be ${CONNECTABLE_HINT} of an Esplora.`,
      });
    const hours = Number(leaveHours.trim());
    if (!leaveHours.trim() || !Number.isFinite(hours) || hours <= 0)
      return setMessage({
        tone: 'error',
        text: 'The time before suggesting to leave must be a number of hours.',
      });
    const origin = url.origin;
    const changed =
      origin !== settings.lspUrl ||
      esploraUrl !== settings.esploraUrl ||
      secondEsploraUrl !== settings.secondEsploraUrl;
    // address payments open channels while nobody is looking: the same limit holds for them
    void useWallet
      .getState()
      .setAddressFeeCap(capMsat ?? 0n)
      .catch(() => {});
    await settings.update({
      lspUrl: origin,
      feeCapMsat: capMsat ?? 0n,
      esploraUrl,
      secondEsploraUrl,
      leaveAfterMs: Math.round(hours * 3_600_000),
    });
    setMessage({
      tone: 'ok',
      text: changed ? 'Saved. Lock and unlock the wallet to use the new provider or chain source.' : 'Saved.',
    });
  };

  return (
    <Frame title="Settings" back testId="screen-settings">
      <form onSubmit={save}>
        <label className="field">
          <span>Service provider (LSP)</span>
          <input name="lsp-url" inputMode="url" value={lspUrl} onChange={(e) => setLspUrl(e.target.value)} />
          {channelCount > 0 && (
            <span className="muted" data-testid="lsp-locked">
              Your channel is with this provider: close it before changing provider.
            </span>
          )}
        </label>
        <label className="field">
          <span>Chain source (Esplora URL; empty: your provider’s)</span>
          <input
            name="esplora-url"
            inputMode="url"
            placeholder="https://…/api"
            value={esplora}
            onChange={(e) => setEsplora(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Second chain source, compared with the first (Esplora URL; empty: none)</span>
          <input
            name="second-esplora-url"
            inputMode="url"
            placeholder="https://…/api"
            value={secondEsplora}
            onChange={(e) => setSecondEsplora(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Suggest leaving when your provider is gone for (hours)</span>
          <input
            name="leave-after-hours"
            inputMode="decimal"
            value={leaveHours}
            onChange={(e) => setLeaveHours(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Most a channel opening may cost (sats)</span>
          <input name="fee-cap" inputMode="numeric" value={cap} onChange={(e) => setCap(e.target.value)} />
        </label>
        {message && <Notice tone={message.tone}>{message.text}</Notice>}
        <div className="actions">
          <button type="submit" className="secondary">
            Save
          </button>
        </div>
      </form>
      <AddressSection />
      <fieldset className="units">
        <legend>Show amounts in</legend>
        {(['sat', 'btc'] as const).map((u) => (
          <label key={u} className="radio">
            <input
              type="radio"
              name="unit"
              value={u}
              checked={settings.unit === u}
              onChange={() => void settings.update({ unit: u })}
            />
            {u === 'sat'
              ? `Sats (${formatAmount(21_000_000n, 'sat')})`
              : `BTC (${formatAmount(21_000_000n, 'btc')})`}
          </label>
        ))}
        <label className="field">
          <span>Fiat beside them</span>
          <select
            name="currency"
            value={settings.currency}
            onChange={(e) => void settings.update({ currency: e.target.value })}
          >
            <option value="">None</option>
            {FIAT_CURRENCIES.map((code) => (
              <option key={code}>{code}</option>
            ))}
          </select>
        </label>
      </fieldset>
      {sites.length > 0 && (
        <fieldset className="units" data-testid="paid-sites">
          <legend>Paid sites (L402)</legend>
          {sites.map((site) => (
            <SiteBudget key={site.origin} site={site} />
          ))}
        </fieldset>
      )}
      <BackupSection />
      <VersionSection />
      <div className="actions">
        <button type="button" className="secondary" onClick={() => go('words')}>
          Show recovery words
        </button>
        <button type="button" className="secondary" onClick={() => void lock()}>
          Lock wallet
        </button>
      </div>
    </Frame>
  );
}
