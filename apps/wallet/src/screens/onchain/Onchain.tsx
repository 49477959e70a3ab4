// On-chain: the wallet's bitcoin outside channels — its balance, a receive address with its QR code,
// sends to an address or a bitcoin: link with the network fee shown before anything is signed, and
// closed channels' money on its way in. Works without the service provider.
import { useState } from 'react';
import { QrCode } from '../../components/QrCode.tsx';
import { Amount, Frame, Notice } from '../../components/ui.tsx';
import { inWords } from '../../lib/messages.ts';
import { parseAmountInput } from '../../lib/units.ts';
import { useWallet } from '../../stores/wallet.ts';
import type { PreparedSendView } from '../../worker/protocol.ts';
import { Exits } from './Exits.tsx';

function ReceiveAddress() {
  const onchainAddress = useWallet((s) => s.onchainAddress);
  const [address, setAddress] = useState<string>();
  const [error, setError] = useState<string>();
  const show = async () => {
    setError(undefined);
    try {
      setAddress(await onchainAddress());
    } catch (e) {
      setError(inWords(e));
    }
  };
  return (
    <section aria-label="Receive on chain">
      <h2>Receive</h2>
      {address ? (
        <div className="center">
          <QrCode text={`bitcoin:${address}`} label="Your on-chain address as a QR code" />
          <p className="mono small invoice-text" data-testid="onchain-address">
            {address}
          </p>
        </div>
      ) : (
        <div className="actions">
          <button type="button" className="secondary" onClick={() => void show()}>
            Show a receive address
          </button>
        </div>
      )}
      {error && <Notice tone="error">{error}</Notice>}
    </section>
  );
}

function SendOnchain() {
  const { prepareOnchainSend, sendOnchain } = useWallet();
  const [destination, setDestination] = useState('');
  const [amount, setAmount] = useState('');
  const [all, setAll] = useState(false);
  const [review, setReview] = useState<PreparedSendView>();
  const [sent, setSent] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const prepare = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setSent(undefined);
    const target = destination.trim();
    if (!target) return setError('Paste a bitcoin address or a bitcoin: link.');
    let amountMsat: bigint | 'all' | undefined = all ? 'all' : undefined;
    if (!all) {
      try {
        amountMsat = parseAmountInput(amount, 'sat');
      } catch {
        return setError('Enter the amount as a whole number of sats.');
      }
      if (amountMsat === undefined && !/^bitcoin:/i.test(target))
        return setError('Enter an amount, or choose to send everything.');
    }
    setBusy(true);
    try {
      setReview(await prepareOnchainSend(target, amountMsat));
    } catch (e) {
      setError(inWords(e));
    } finally {
      setBusy(false);
    }
  };
  const confirm = async () => {
    if (!review) return;
    setBusy(true);
    setError(undefined);
    try {
      setSent(await sendOnchain(review.id));
      setReview(undefined);
      setDestination('');
      setAmount('');
      setAll(false);
    } catch (e) {
      setError(inWords(e));
      setReview(undefined);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-label="Send on chain">
      <h2>Send</h2>
      {review ? (
        <div data-testid="onchain-review">
          <dl className="facts">
            <dt>To</dt>
            <dd className="mono small">{review.address}</dd>
            <dt>Amount</dt>
            <dd data-testid="onchain-review-amount" data-msat={review.amountMsat.toString()}>
              <Amount msat={review.amountMsat} />
            </dd>
            <dt>Network fee</dt>
            <dd data-testid="onchain-review-fee" data-msat={review.feeMsat.toString()}>
              <Amount msat={review.feeMsat} round="ceil" /> ({review.feerateSatPerVb} sat/vB)
            </dd>
            <dt>Total</dt>
            <dd>
              <Amount msat={review.amountMsat + review.feeMsat} round="ceil" />
            </dd>
          </dl>
          <p className="muted small">
            {review.sendsAll ? 'Everything on chain goes out; the fee comes from it. ' : ''}
            Bitcoin sent on chain cannot be called back.
          </p>
          <div className="pair">
            <button type="button" className="secondary" disabled={busy} onClick={() => setReview(undefined)}>
              Cancel
            </button>
            <button type="button" className="primary" disabled={busy} onClick={() => void confirm()}>
              Send now
            </button>
          </div>
        </div>
      ) : (
        <form onSubmit={(e) => void prepare(e)}>
          <label className="field">
            <span>Bitcoin address or bitcoin: link</span>
            <input
              name="onchain-destination"
              autoComplete="off"
              spellCheck={false}
              value={destination}
              onChange={(e) => setDestination(e.target.value)}
            />
          </label>
          <label className="field">
            <span>Amount (sats)</span>
            <input
              name="onchain-amount"
              inputMode="numeric"
              disabled={all}
              value={all ? '' : amount}
              onChange={(e) => setAmount(e.target.value)}
            />
          </label>
          <label className="radio">
            <input
              type="checkbox"
              name="onchain-all"
              checked={all}
              onChange={(e) => setAll(e.target.checked)}
            />
            Send everything
          </label>
          <div className="actions">
            <button type="submit" className="primary" disabled={busy}>
              Review
            </button>
          </div>
        </form>
      )}
      {error && (
        <Notice tone="error" testId="onchain-error">
          {error}
        </Notice>
      )}
      {sent && (
        <Notice tone="ok" testId="onchain-sent">
          Sent. Transaction <span className="mono small">{sent}</span>
        </Notice>
      )}
    </section>
  );
}

export function Onchain() {
  const snap = useWallet((s) => s.snapshot);
  const onchain = snap?.onchain;
  return (
    <Frame title="On-chain" back testId="screen-onchain">
      <section className="balance" aria-label="On-chain balance">
        <span className="caption">On-chain balance</span>
        <span className="big" data-testid="onchain-balance" data-msat={onchain?.confirmedMsat.toString()}>
          <Amount msat={onchain?.confirmedMsat ?? 0n} />
        </span>
        {onchain && onchain.unconfirmedMsat > 0n && (
          <span className="muted small" data-testid="onchain-unconfirmed">
            + <Amount msat={onchain.unconfirmedMsat} /> waiting for a block
          </span>
        )}
      </section>
      <Exits />
      <SendOnchain />
      <ReceiveAddress />
    </Frame>
  );
}
