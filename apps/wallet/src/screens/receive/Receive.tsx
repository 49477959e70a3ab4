// Receive: amount (optional) and note. With room in the channel a plain invoice; without, the JIT
// path: the LSP's opening fee is shown and agreed to before the invoice exists. Then the QR code,
// and the screen follows the payment until it arrives.
import { useState } from 'react';
import { AddressCard } from '../../components/LightningAddress.tsx';
import { QrCode } from '../../components/QrCode.tsx';
import {
  Amount,
  ExpiresIn,
  Fiat,
  Frame,
  Notice,
  ShareOrCopy,
  useBlocker,
  useNow,
} from '../../components/ui.tsx';
import { inWords } from '../../lib/messages.ts';
import { AmountInputError, parseAmountInput } from '../../lib/units.ts';
import { useNav } from '../../stores/nav.ts';
import { useSession } from '../../stores/session.ts';
import { useSettings } from '../../stores/settings.ts';
import { useWallet } from '../../stores/wallet.ts';
import type { CreatedInvoice, ReceiveQuote } from '../../worker/protocol.ts';

type Step =
  | { kind: 'form' }
  | { kind: 'fee'; amountMsat: bigint; quote: Extract<ReceiveQuote, { kind: 'jit' }> }
  | { kind: 'invoice'; invoice: CreatedInvoice; amountMsat: bigint | undefined }
  | { kind: 'offer'; offer: string };

function StorageGate(props: { children: React.ReactNode }) {
  const storage = useSession((s) => s.storage);
  const accepted = useSession((s) => s.storageRiskAccepted);
  const accept = useSession((s) => s.acceptStorageRisk);
  if (storage?.kind === 'unavailable')
    return (
      <Notice tone="error" testId="storage-unavailable">
        {storage.reason} Receiving is disabled: the money could be lost with the data.
      </Notice>
    );
  if (storage?.kind === 'best-effort' && !accepted)
    return (
      <div data-testid="storage-warning">
        <Notice tone="warn">{storage.reason}</Notice>
        <div className="actions">
          <button type="button" className="secondary" onClick={accept}>
            I understand, continue
          </button>
        </div>
      </div>
    );
  return <>{props.children}</>;
}

export function Receive() {
  const [step, setStep] = useState<Step>({ kind: 'form' });
  const [amountText, setAmountText] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const { unit, feeCapMsat } = useSettings();
  const { quoteReceive, createInvoice, offer } = useWallet();
  const blocker = useBlocker();

  const makeInvoice = async (amountMsat: bigint | undefined, quote: ReceiveQuote) => {
    const invoice = await createInvoice(amountMsat, note.trim(), quote);
    setStep({ kind: 'invoice', invoice, amountMsat });
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(undefined);
    let amountMsat: bigint | undefined;
    try {
      amountMsat = parseAmountInput(amountText, unit);
    } catch (err) {
      return setError(err instanceof AmountInputError ? err.message : String(err));
    }
    setBusy(true);
    try {
      const quote = await quoteReceive(amountMsat, feeCapMsat);
      if (quote.kind === 'jit') setStep({ kind: 'fee', amountMsat: quote.amountMsat, quote });
      else await makeInvoice(amountMsat, quote);
    } catch (err) {
      setError(inWords(err));
    } finally {
      setBusy(false);
    }
  };

  if (step.kind === 'invoice') return <ShowInvoice invoice={step.invoice} amountMsat={step.amountMsat} />;
  if (step.kind === 'offer')
    return (
      <Frame title="Your offer" back testId="screen-receive-offer">
        <div className="center">
          <QrCode text={step.offer} label="Offer QR code" />
          <p className="muted small">
            A reusable BOLT 12 offer: anyone can pay it any amount, again and again, while this wallet is open
            and has a channel.
          </p>
          <code className="invoice-text" data-testid="offer-text">
            {step.offer}
          </code>
        </div>
        <div className="actions">
          <button type="button" className="secondary" onClick={() => setStep({ kind: 'form' })}>
            Back to invoice
          </button>
        </div>
      </Frame>
    );

  if (step.kind === 'fee') {
    const { quote } = step;
    const agree = async () => {
      setBusy(true);
      setError(undefined);
      try {
        await makeInvoice(step.amountMsat, quote);
      } catch (err) {
        setError(inWords(err));
      } finally {
        setBusy(false);
      }
    };
    return (
      <Frame title="Receive" back testId="screen-receive-fee">
        <p>This is your first payment in, so your service provider opens a channel for it.</p>
        <dl className="facts">
          <dt>Payment</dt>
          <dd>
            <Amount msat={step.amountMsat} />
            <Fiat msat={step.amountMsat} />
          </dd>
          <dt>Channel fee</dt>
          <dd data-testid="jit-fee">
            <Amount msat={quote.feeMsat} round="ceil" />
          </dd>
          <dt>You receive</dt>
          <dd>
            <Amount msat={step.amountMsat - quote.feeMsat} testId="jit-net" />
            <Fiat msat={step.amountMsat - quote.feeMsat} />
          </dd>
        </dl>
        {error && <Notice tone="error">{error}</Notice>}
        <div className="actions">
          <button type="button" className="primary" disabled={busy} onClick={agree}>
            {busy ? 'Preparing…' : 'Agree and create invoice'}
          </button>
          <button type="button" className="secondary" onClick={() => setStep({ kind: 'form' })}>
            Change amount
          </button>
        </div>
      </Frame>
    );
  }

  return (
    <Frame title="Receive" back testId="screen-receive">
      <StorageGate>
        <AddressCard />
        <form onSubmit={submit}>
          <label className="field">
            <span>Amount ({unit === 'sat' ? 'sats' : 'BTC'}, optional)</span>
            <input
              name="amount"
              inputMode="decimal"
              autoComplete="off"
              value={amountText}
              onChange={(e) => setAmountText(e.target.value)}
            />
          </label>
          <label className="field">
            <span>Note (optional)</span>
            <input name="note" maxLength={120} value={note} onChange={(e) => setNote(e.target.value)} />
          </label>
          {blocker && (
            <Notice tone="warn" testId="receive-blocked">
              {blocker}
            </Notice>
          )}
          {error && (
            <Notice tone="error" testId="receive-error">
              {error}
            </Notice>
          )}
          <div className="actions">
            <button type="submit" className="primary" disabled={busy || blocker !== undefined}>
              {busy ? 'Please wait…' : 'Create invoice'}
            </button>
            <button
              type="button"
              className="secondary"
              disabled={busy || blocker !== undefined}
              onClick={() =>
                offer().then(
                  (text) => setStep({ kind: 'offer', offer: text }),
                  (err) => setError(inWords(err)),
                )
              }
            >
              Show my reusable offer
            </button>
          </div>
        </form>
      </StorageGate>
    </Frame>
  );
}

function ShowInvoice(props: { invoice: CreatedInvoice; amountMsat: bigint | undefined }) {
  const { invoice } = props;
  const go = useNav((s) => s.go);
  const received = useWallet((s) =>
    s.snapshot?.payments.find((p) => p.id === invoice.paymentHash && p.status === 'succeeded'),
  );
  const now = useNow();
  if (received) {
    return (
      <Frame title="Received" back testId="screen-receive-done">
        <div className="center">
          <div className="tick" aria-hidden="true">
            ✓
          </div>
          <p className="big" data-testid="received-amount">
            +<Amount msat={received.amountMsat ?? 0n} />
          </p>
          <Fiat msat={received.amountMsat ?? 0n} />
          {received.feeMsat !== undefined && received.feeMsat > 0n && (
            <p className="muted">
              Channel fee: <Amount msat={received.feeMsat} round="ceil" />
            </p>
          )}
        </div>
        <div className="actions">
          <button type="button" className="primary" onClick={() => go('home')}>
            Done
          </button>
        </div>
      </Frame>
    );
  }
  const expired = now >= invoice.expiresAt;
  return (
    <Frame title="Receive" back testId="screen-receive-invoice">
      <div className="center">
        {expired ? (
          <Notice tone="warn">This invoice expired. Go back to make a new one.</Notice>
        ) : (
          <QrCode text={invoice.bolt11} label="Invoice QR code" />
        )}
        {props.amountMsat !== undefined && (
          <p className="big">
            <Amount msat={props.amountMsat} />
          </p>
        )}
        {props.amountMsat !== undefined && <Fiat msat={props.amountMsat} age testId="receive-fiat" />}
        {invoice.feeMsat > 0n && (
          <p className="muted">
            Includes the channel fee of <Amount msat={invoice.feeMsat} round="ceil" />
          </p>
        )}
        {!expired && (
          <p className="muted" data-testid="waiting">
            Waiting for payment… <ExpiresIn expiresAt={invoice.expiresAt} now={now} />
          </p>
        )}
        <code className="invoice-text" data-testid="invoice-text">
          {invoice.bolt11}
        </code>
      </div>
      {!expired && <ShareOrCopy text={invoice.bolt11} uri={`lightning:${invoice.bolt11}`} />}
    </Frame>
  );
}
