// Send: scan or paste — an invoice, or a Lightning Address / LNURL-pay (its limits and description,
// then an amount, then its invoice), or a web link (L402, PaidUrl.tsx); then what will happen
// (amount, description, payee, fee limit) before paying; then progress; then the proof (preimage)
// or what went wrong, in words. Other sites are fetched directly, or through the LSP's relay when the
// browser cannot (stores/web.ts): then the screens say "via your LSP".

import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import { Amount, ExpiresIn, Fiat, Frame, Notice, useBlocker, useNow } from '../../components/ui.tsx';
import { inWords } from '../../lib/messages.ts';
import {
  earlierPayment,
  type FetchedPayRequest,
  invoiceFromLnurl,
  type LnurlTarget,
  lnurlAmountMsat,
  maxRoutingFeeMsat,
  type PayableInvoice,
  readSendInput,
  resolveLnurl,
} from '../../lib/send-input.ts';
import { dateTime } from '../../lib/time.ts';
import { AmountInputError, parseAmountInput } from '../../lib/units.ts';
import { useNav } from '../../stores/nav.ts';
import { useSettings } from '../../stores/settings.ts';
import { useWallet } from '../../stores/wallet.ts';
import { webFetch } from '../../stores/web.ts';
import type { PaidInvoice, PaymentView } from '../../worker/protocol.ts';
import { PaidUrl } from './PaidUrl.tsx';
import { ViaLsp } from './ViaLsp.tsx';

// the QR decoder is most of the app's JavaScript: loaded only when the camera is opened
const Scanner = lazy(() => import('./Scanner.tsx').then((m) => ({ default: m.Scanner })));
/** Past this many characters a description gets the confirm screen's full width (in a scroll box). */
const LONG_DESCRIPTION_CHARS = 80;

type Step =
  | { kind: 'input' }
  | { kind: 'lnurl-loading'; target: LnurlTarget }
  | { kind: 'lnurl-amount'; target: LnurlTarget; payRequest: FetchedPayRequest }
  | { kind: 'url'; url: string }
  | { kind: 'review'; invoice: PayableInvoice }
  | { kind: 'paying'; invoice: PayableInvoice; amountMsat: bigint }
  | { kind: 'done'; paid: PaidInvoice; invoice: PayableInvoice }
  | { kind: 'failed'; message: string; invoice: PayableInvoice };

export function Send() {
  const [step, setStep] = useState<Step>({ kind: 'input' });
  const [scan, setScan] = useState(false);
  const [pasted, setPasted] = useState('');
  const [error, setError] = useState<string>();
  const network = useWallet((s) => s.snapshot?.network ?? s.snapshot?.lsp.network);
  const payments = useWallet((s) => s.snapshot?.payments);
  const go = useNav((s) => s.go);
  // the LNURL service being asked; a Cancel or a new input makes its late answer be ignored
  const pending = useRef<LnurlTarget>(undefined);

  const read = (text: string) => {
    setScan(false);
    let target: ReturnType<typeof readSendInput>;
    try {
      setError(undefined);
      target = readSendInput(text, network, Date.now());
    } catch (err) {
      return setError(inWords(err));
    }
    if (target.kind === 'invoice') return setStep({ kind: 'review', invoice: target.invoice });
    if (target.kind === 'url') return setStep({ kind: 'url', url: target.url });
    const lnurl = target.target;
    pending.current = lnurl;
    setStep({ kind: 'lnurl-loading', target: lnurl });
    resolveLnurl(lnurl, webFetch).then(
      (payRequest) => {
        if (pending.current !== lnurl) return;
        pending.current = undefined;
        setStep({ kind: 'lnurl-amount', target: lnurl, payRequest });
      },
      (err) => {
        if (pending.current !== lnurl) return;
        pending.current = undefined;
        setStep({ kind: 'input' });
        setError(inWords(err));
      },
    );
  };

  if (step.kind === 'lnurl-loading')
    return (
      <Frame title="Send" back testId="screen-send-lnurl-loading">
        <div className="center">
          <div className="spinner" aria-hidden="true" />
          <p className="muted">Asking {step.target.name} what it accepts…</p>
        </div>
        <div className="actions">
          <button
            type="button"
            className="secondary"
            onClick={() => {
              pending.current = undefined;
              setStep({ kind: 'input' });
            }}
          >
            Cancel
          </button>
        </div>
      </Frame>
    );
  if (step.kind === 'lnurl-amount')
    return (
      <LnurlAmount
        target={step.target}
        payRequest={step.payRequest}
        network={network}
        onBack={() => setStep({ kind: 'input' })}
        onInvoice={(invoice) => setStep({ kind: 'review', invoice })}
      />
    );

  if (step.kind === 'url') return <PaidUrl url={step.url} onBack={() => go('home')} />;
  if (step.kind === 'review') {
    // paid or being paid already (the same payment hash): said before the confirm screen, no Pay
    const earlier = earlierPayment(payments, step.invoice.paymentHash);
    if (earlier) return <AlreadyPaid payment={earlier} invoice={step.invoice} />;
    return <Review invoice={step.invoice} onBack={() => setStep({ kind: 'input' })} setStep={setStep} />;
  }
  if (step.kind === 'paying')
    return (
      <Frame title="Sending" testId="screen-send-paying">
        <div className="center">
          <div className="spinner" aria-hidden="true" />
          <p className="big">
            <Amount msat={step.amountMsat} />
          </p>
          <Fiat msat={step.amountMsat} />
          <p className="muted">Finding a route and paying… This usually takes a few seconds.</p>
        </div>
      </Frame>
    );
  if (step.kind === 'done')
    return (
      <Frame title="Sent" testId="screen-send-done">
        <div className="center">
          <div className="tick" aria-hidden="true">
            ✓
          </div>
          <p className="big" data-testid="sent-amount">
            <Amount msat={step.paid.amountMsat} />
          </p>
          <Fiat msat={step.paid.amountMsat} />
          <p className="muted">
            Routing fee: <Amount msat={step.paid.feeMsat} round="ceil" />
          </p>
          <p className="small">Proof of payment (preimage):</p>
          <code className="invoice-text" data-testid="preimage">
            {step.paid.preimage}
          </code>
        </div>
        <div className="actions">
          <button type="button" className="primary" onClick={() => go('home')}>
            Done
          </button>
        </div>
      </Frame>
    );
  if (step.kind === 'failed')
    return (
      <Frame title="Not sent" back testId="screen-send-failed">
        <Notice tone="error" testId="send-failure">
          {step.message}
        </Notice>
        <div className="actions">
          <button
            type="button"
            className="primary"
            onClick={() => setStep({ kind: 'review', invoice: step.invoice })}
          >
            Try again
          </button>
        </div>
      </Frame>
    );

  return (
    <Frame title="Send" back testId="screen-send">
      {scan ? (
        <>
          <Suspense fallback={<p className="muted">Starting the camera…</p>}>
            <Scanner onText={read} />
          </Suspense>
          <div className="actions">
            <button type="button" className="secondary" onClick={() => setScan(false)}>
              Stop camera
            </button>
          </div>
        </>
      ) : (
        <div className="actions">
          <button type="button" className="primary" onClick={() => setScan(true)}>
            Scan QR code
          </button>
        </div>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          read(pasted);
        }}
      >
        <label className="field">
          <span>Or paste an invoice, offer, Lightning address, LNURL or web link</span>
          <textarea
            name="invoice"
            rows={3}
            autoCapitalize="none"
            spellCheck={false}
            value={pasted}
            onChange={(e) => setPasted(e.target.value)}
          />
        </label>
        {error && (
          <Notice tone="error" testId="send-input-error">
            {error}
          </Notice>
        )}
        <div className="actions">
          <button type="submit" className="secondary">
            Continue
          </button>
        </div>
      </form>
    </Frame>
  );
}

function Review(props: { invoice: PayableInvoice; onBack: () => void; setStep: (s: Step) => void }) {
  const { invoice } = props;
  const unit = useSettings((s) => s.unit);
  const spendable = useWallet((s) => s.snapshot?.spendableMsat ?? 0n);
  const pay = useWallet((s) => s.pay);
  const payOffer = useWallet((s) => s.payOffer);
  const blocker = useBlocker();
  const now = useNow();
  const expired = now >= invoice.expiresAt;
  const [amountText, setAmountText] = useState('');
  const [error, setError] = useState<string>();
  const estimateFee = useWallet((s) => s.estimateFee);
  const [estimate, setEstimate] = useState<{ feeMsat: bigint | undefined; failed: boolean }>();
  useEffect(() => {
    // an offer's route is known only once its invoice comes, when paying
    if (invoice.amountMsat === undefined || invoice.offer || blocker) return;
    let live = true;
    estimateFee(invoice.bolt11).then(
      (feeMsat) => live && setEstimate({ feeMsat, failed: false }),
      () => live && setEstimate({ feeMsat: undefined, failed: true }),
    );
    return () => {
      live = false;
    };
  }, [invoice, estimateFee, blocker]);
  let amountMsat = invoice.amountMsat;
  let amountProblem: string | undefined;
  if (amountMsat === undefined) {
    try {
      amountMsat = parseAmountInput(amountText, unit);
    } catch (err) {
      amountProblem = err instanceof AmountInputError ? err.message : String(err);
    }
  }
  const feeLimit = amountMsat !== undefined ? maxRoutingFeeMsat(amountMsat) : undefined;
  const over = amountMsat !== undefined && feeLimit !== undefined && amountMsat + feeLimit > spendable;
  const confirm = async () => {
    if (amountMsat === undefined || feeLimit === undefined) return setError('Enter an amount.');
    if (Date.now() >= invoice.expiresAt) return setError('This invoice has expired. Ask for a new one.');
    props.setStep({ kind: 'paying', invoice, amountMsat });
    try {
      const paid = await (invoice.offer ? payOffer : pay)(
        invoice.bolt11,
        invoice.amountMsat === undefined ? amountMsat : undefined,
        feeLimit,
      );
      props.setStep({ kind: 'done', paid, invoice });
    } catch (err) {
      props.setStep({ kind: 'failed', message: inWords(err), invoice });
    }
  };
  return (
    <Frame title="Confirm payment" back testId="screen-send-review">
      {invoice.viaLsp && <ViaLsp host={invoice.payeeName ?? 'the site'} />}
      <dl className="facts">
        <dt>Amount</dt>
        <dd>
          {invoice.amountMsat !== undefined ? (
            <Amount msat={invoice.amountMsat} testId="review-amount" />
          ) : (
            <input
              name="amount"
              inputMode="decimal"
              aria-label={`Amount in ${unit === 'sat' ? 'sats' : 'BTC'}`}
              value={amountText}
              onChange={(e) => setAmountText(e.target.value)}
            />
          )}
          {amountMsat !== undefined && <Fiat msat={amountMsat} age testId="review-fiat" />}
        </dd>
        <dt>For</dt>
        {/* a description may be 639 bytes (one invoice field): a long one takes the row's width and scrolls */}
        <dd
          className={
            (invoice.description?.length ?? 0) > LONG_DESCRIPTION_CHARS ? 'description wide' : 'description'
          }
          data-testid="review-description"
        >
          {invoice.description || <span className="muted">No description</span>}
        </dd>
        <dt>To</dt>
        {/* one dd: a second one would shift every later row of the two-column grid */}
        <dd className="payee">
          {invoice.payeeName && <span data-testid="review-payee">{breakAfterAt(invoice.payeeName)}</span>}
          {invoice.offer ? (
            <span className="muted small">a BOLT 12 offer (its node stays private)</span>
          ) : (
            <span className="mono small">{`${invoice.payeeNodeId.slice(0, 12)}…${invoice.payeeNodeId.slice(-6)}`}</span>
          )}
        </dd>
        {/* what the Lightning hops take; "network fee" is the on-chain word (Onchain, Channel) */}
        <dt>Routing fee</dt>
        <dd data-testid="review-fee">
          {estimate?.feeMsat !== undefined ? (
            <>
              about <Amount msat={estimate.feeMsat} round="ceil" />
            </>
          ) : estimate?.failed ? (
            <span className="muted">no route found yet</span>
          ) : invoice.offer ? (
            <span className="muted">known once the payee answers</span>
          ) : feeLimit !== undefined && !blocker ? (
            <span className="muted">estimating…</span>
          ) : null}
          {feeLimit !== undefined && (
            <span className="muted small">
              {' '}
              (at most <Amount msat={feeLimit} round="ceil" />)
            </span>
          )}
        </dd>
        <dt>You can send</dt>
        <dd>
          <Amount msat={spendable} />
        </dd>
      </dl>
      {/* an offer with no expiry never expires: no countdown */}
      {invoice.expiresAt !== Number.MAX_SAFE_INTEGER && (
        <p className="small">
          <ExpiresIn expiresAt={invoice.expiresAt} now={now} />
        </p>
      )}
      {expired && (
        <Notice tone="error" testId="send-expired">
          This invoice expired at {dateTime(invoice.expiresAt)} and can no longer be paid. Ask the recipient
          for a new one.
        </Notice>
      )}
      {amountProblem && amountText !== '' && <Notice tone="error">{amountProblem}</Notice>}
      {over && (
        <Notice tone="error" testId="send-over-balance">
          That is more than you can send right now (amount plus the most the network fee can be).
        </Notice>
      )}
      {blocker && (
        <Notice tone="warn" testId="send-blocked">
          {blocker}
        </Notice>
      )}
      {error && <Notice tone="error">{error}</Notice>}
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={amountMsat === undefined || over || expired || blocker !== undefined}
          onClick={confirm}
        >
          Pay
        </button>
        <button type="button" className="secondary" onClick={props.onBack}>
          Cancel
        </button>
      </div>
    </Frame>
  );
}

/** The invoice's payment hash is in the history, paid or being paid: no second payment is offered. */
function AlreadyPaid(props: { payment: PaymentView; invoice: PayableInvoice }) {
  const { payment, invoice } = props;
  const go = useNav((s) => s.go);
  const paid = payment.status === 'succeeded';
  const words = !paid
    ? 'This invoice is being paid right now. Wait for that payment to finish: it is in your history.'
    : payment.direction === 'inbound'
      ? `This is an invoice of yours, and it was paid to you on ${dateTime(payment.updatedAt)}.`
      : `You already paid this invoice on ${dateTime(payment.updatedAt)}. It cannot be paid twice.`;
  const amountMsat = payment.amountMsat ?? invoice.amountMsat;
  return (
    <Frame title={paid ? 'Already paid' : 'Payment in flight'} back testId="screen-send-already-paid">
      <Notice tone={paid ? 'ok' : 'info'} testId="already-paid">
        {words}
      </Notice>
      <dl className="facts">
        <dt>Amount</dt>
        <dd>
          {amountMsat !== undefined ? <Amount msat={amountMsat} /> : '?'}
          {amountMsat !== undefined && <Fiat msat={amountMsat} />}
        </dd>
        <dt>For</dt>
        <dd className="description">
          {invoice.description || <span className="muted">No description</span>}
        </dd>
      </dl>
      <div className="actions">
        <button type="button" className="primary" onClick={() => go('home')}>
          Done
        </button>
      </div>
    </Frame>
  );
}

function LnurlAmount(props: {
  target: LnurlTarget;
  payRequest: FetchedPayRequest;
  network: string | undefined;
  onBack: () => void;
  onInvoice: (invoice: PayableInvoice) => void;
}) {
  const { target, payRequest } = props;
  const unit = useSettings((s) => s.unit);
  const fixed = payRequest.minSendableMsat === payRequest.maxSendableMsat;
  const [amountText, setAmountText] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  // a Cancel while the invoice is being fetched: its late answer is dropped
  const live = useRef(true);
  useEffect(() => {
    live.current = true;
    return () => {
      live.current = false;
    };
  }, []);
  let amountMsat: bigint | undefined = fixed ? payRequest.minSendableMsat : undefined;
  let amountProblem: string | undefined;
  if (!fixed && amountText !== '') {
    try {
      amountMsat = lnurlAmountMsat(amountText, unit, payRequest);
    } catch (err) {
      amountProblem = inWords(err);
    }
  }
  const next = async () => {
    if (amountMsat === undefined) return setError('Enter an amount.');
    setBusy(true);
    setError(undefined);
    try {
      const invoice = await invoiceFromLnurl(target, payRequest, amountMsat, webFetch, {
        network: props.network,
        nowMs: Date.now(),
      });
      if (live.current) props.onInvoice(invoice);
    } catch (err) {
      if (!live.current) return;
      setError(inWords(err));
      setBusy(false);
    }
  };
  return (
    <Frame title={`Pay ${target.name}`} back testId="screen-send-lnurl">
      {payRequest.viaLsp && <ViaLsp host={target.host} />}
      <dl className="facts">
        <dt>To</dt>
        <dd data-testid="lnurl-payee">{target.name}</dd>
        <dt>For</dt>
        <dd data-testid="lnurl-description">
          {payRequest.description || <span className="muted">No description</span>}
        </dd>
        <dt>{fixed ? 'Amount' : 'It accepts'}</dt>
        <dd data-testid="lnurl-range">
          {fixed ? (
            <Amount msat={payRequest.minSendableMsat} round="ceil" />
          ) : (
            <>
              <Amount msat={payRequest.minSendableMsat} round="ceil" /> to{' '}
              <Amount msat={payRequest.maxSendableMsat} />
            </>
          )}
        </dd>
      </dl>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void next();
        }}
      >
        {!fixed && (
          <label className="field">
            <span>Amount in {unit === 'sat' ? 'sats' : 'BTC'}</span>
            <input
              name="amount"
              inputMode="decimal"
              value={amountText}
              onChange={(e) => setAmountText(e.target.value)}
            />
          </label>
        )}
        {amountProblem && <Notice tone="error">{amountProblem}</Notice>}
        {error && (
          <Notice tone="error" testId="send-lnurl-error">
            {error}
          </Notice>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || amountMsat === undefined}>
            {busy ? 'Asking for an invoice…' : 'Continue'}
          </button>
          <button type="button" className="secondary" onClick={props.onBack}>
            Cancel
          </button>
        </div>
      </form>
    </Frame>
  );
}

/** A Lightning Address that must wrap breaks after its `@`, not inside its domain or port. */
function breakAfterAt(name: string) {
  const at = name.indexOf('@');
  if (at < 0) return name;
  return (
    <>
      {name.slice(0, at + 1)}
      <wbr />
      {name.slice(at + 1)}
    </>
  );
}
