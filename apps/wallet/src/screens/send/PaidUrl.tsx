// A web link opened from Send: fetched directly (or via the LSP's relay when the browser cannot, and
// then it says so); when the site asks for an L402
// payment, it is paid within the budget the person set for that site (asked the first time), and
// the answer is shown — text and JSON as text, images as images, anything else by type and size.
import { useEffect, useRef, useState } from 'react';
import { SiteBudget, siteName } from '../../components/SiteBudget.tsx';
import { Amount, Frame, Notice } from '../../components/ui.tsx';
import { inWords } from '../../lib/messages.ts';
import { type OpenedUrl, PaidUrlError } from '../../lib/paid-url.ts';
import { parseAmountInput } from '../../lib/units.ts';
import { useSettings } from '../../stores/settings.ts';
import { useWeb } from '../../stores/web.ts';
import { ViaLsp } from './ViaLsp.tsx';

type View =
  | { kind: 'opening' }
  | { kind: 'budget'; priceMsat: bigint; viaLsp: boolean; answer: (budgetMsat: bigint | undefined) => void }
  | { kind: 'paying'; priceMsat: bigint }
  | { kind: 'opened'; opened: OpenedUrl }
  | { kind: 'refused'; error: PaidUrlError }
  | { kind: 'failed'; message: string };

export function PaidUrl(props: { url: string; onBack: () => void }) {
  const host = new URL(props.url).host;
  const origin = new URL(props.url).origin;
  const openUrl = useWeb((s) => s.openUrl);
  const site = useWeb((s) => s.sites[origin]);
  const [view, setView] = useState<View>({ kind: 'opening' });
  const [attempt, setAttempt] = useState(0);
  const live = useRef(true);

  useEffect(() => {
    live.current = true;
    setView({ kind: 'opening' });
    const show = (v: View) => live.current && setView(v);
    openUrl(props.url, {
      askBudget: ({ priceMsat, viaLsp }) =>
        new Promise((resolve, reject) =>
          show({
            kind: 'budget',
            priceMsat,
            viaLsp,
            answer: (budgetMsat) =>
              budgetMsat === undefined ? reject(new Error('cancelled')) : resolve(budgetMsat),
          }),
        ),
      onPaying: ({ priceMsat }) => show({ kind: 'paying', priceMsat }),
    }).then(
      (opened) => show({ kind: 'opened', opened }),
      (err: unknown) => {
        if (!(err instanceof PaidUrlError)) return show({ kind: 'failed', message: inWords(err) });
        if (err.code !== 'PAYMENT_FAILED') return show({ kind: 'refused', error: err });
        // the wallet's own words for why (a timeout may still complete: not "nothing was paid")
        show({ kind: 'failed', message: `The payment to ${host} did not go through. ${inWords(err.cause)}` });
      },
    );
    return () => {
      live.current = false;
    };
  }, [props.url, host, openUrl, attempt]);

  const again = (
    <button type="button" className="secondary" onClick={() => setAttempt((n) => n + 1)}>
      Open again
    </button>
  );
  const back = (
    <button type="button" className="secondary" onClick={props.onBack}>
      Done
    </button>
  );

  if (view.kind === 'opening' || view.kind === 'paying')
    return (
      <Frame title={host} back testId={view.kind === 'opening' ? 'screen-url-opening' : 'screen-url-paying'}>
        <div className="center">
          <div className="spinner" aria-hidden="true" />
          <p className="muted">
            {view.kind === 'opening' ? (
              <>Opening {props.url}…</>
            ) : (
              <>
                Paying <Amount msat={view.priceMsat} round="ceil" /> to {host}…
              </>
            )}
          </p>
        </div>
      </Frame>
    );
  if (view.kind === 'budget')
    return <AskBudget host={host} priceMsat={view.priceMsat} viaLsp={view.viaLsp} answer={view.answer} />;
  if (view.kind === 'refused') {
    const { facts } = view.error;
    return (
      <Frame title={host} back testId="screen-url-refused">
        <Notice tone="error" testId="url-refused">
          {view.error.code === 'OVER_BUDGET' && facts.priceMsat !== undefined ? (
            <>
              {host} asks <Amount msat={facts.priceMsat} round="ceil" />, but only{' '}
              <Amount msat={facts.leftMsat ?? 0n} /> {facts.leftMsat === 1000n ? 'is' : 'are'} left of your
              budget for it. Nothing was paid.
            </>
          ) : (
            view.error.message
          )}
        </Notice>
        {site && <SiteBudget site={site} />}
        <div className="actions">
          {again}
          {back}
        </div>
      </Frame>
    );
  }
  if (view.kind === 'failed')
    return (
      <Frame title={host} back testId="screen-url-failed">
        <Notice tone="error" testId="url-failed">
          {view.message}
        </Notice>
        <div className="actions">
          {again}
          {back}
        </div>
      </Frame>
    );

  const { opened } = view;
  return (
    <Frame title={host} back testId="screen-url-opened">
      {opened.viaLsp && <ViaLsp host={host} />}
      <dl className="facts">
        <dt>Address</dt>
        <dd className="mono small">{opened.url}</dd>
        <dt>Answer</dt>
        <dd data-testid="url-status">HTTP {opened.status}</dd>
        <dt>Paid with fee</dt>
        <dd data-testid="url-paid">
          {opened.paidMsat > 0n ? (
            <Amount msat={opened.paidMsat} round="ceil" />
          ) : opened.reusedToken ? (
            'nothing: a token you bought earlier was used'
          ) : (
            'nothing'
          )}
        </dd>
      </dl>
      <Body opened={opened} />
      {(site ?? opened.site).budgetMsat !== undefined && <SiteBudget site={site ?? opened.site} />}
      <div className="actions">
        {again}
        {back}
      </div>
    </Frame>
  );
}

function AskBudget(props: {
  host: string;
  priceMsat: bigint;
  viaLsp: boolean;
  answer: (budgetMsat: bigint | undefined) => void;
}) {
  const unit = useSettings((s) => s.unit);
  const [text, setText] = useState('');
  const [error, setError] = useState<string>();
  const submit = () => {
    try {
      const budgetMsat = parseAmountInput(text, unit);
      if (budgetMsat === undefined) return setError('Enter a budget.');
      props.answer(budgetMsat);
    } catch (err) {
      setError(inWords(err));
    }
  };
  return (
    <Frame title={props.host} back testId="screen-url-budget">
      {props.viaLsp && <ViaLsp host={props.host} />}
      <p>
        {props.host} asks{' '}
        <strong data-testid="url-price">
          <Amount msat={props.priceMsat} round="ceil" />
        </strong>{' '}
        (L402) for this.
      </p>
      <p className="muted">
        Set a budget for {props.host}: the most this wallet may pay it in total, network fees included. Within
        it, its links open and are paid without asking again; above it, nothing is paid.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <label className="field">
          <span>
            Budget for {props.host} ({unit === 'sat' ? 'sats' : 'BTC'})
          </span>
          <input name="budget" inputMode="decimal" value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        {error && <Notice tone="error">{error}</Notice>}
        <div className="actions">
          <button type="submit" className="primary">
            Set budget and pay
          </button>
          <button type="button" className="secondary" onClick={() => props.answer(undefined)}>
            Cancel
          </button>
        </div>
      </form>
    </Frame>
  );
}

const TEXT_TYPES = /^(text\/|application\/([a-z0-9.+-]*\+)?(json|xml|javascript))/i;

function Body(props: { opened: OpenedUrl }) {
  const { contentType = '', body } = props.opened;
  const image = /^image\/(png|jpeg|gif|webp|avif)/i.test(contentType);
  const [src, setSrc] = useState<string>();
  useEffect(() => {
    if (!image) return;
    // the CSP allows blob: images; the URL lives as long as this view
    const url = URL.createObjectURL(new Blob([body as Uint8Array<ArrayBuffer>], { type: contentType }));
    setSrc(url);
    return () => URL.revokeObjectURL(url);
  }, [image, body, contentType]);
  if (image)
    return src ? (
      <img className="url-image" src={src} alt={`What ${siteName(props.opened.url)} sent`} />
    ) : null;
  if (TEXT_TYPES.test(contentType) || contentType === '') {
    let text = new TextDecoder().decode(body);
    if (/json/i.test(contentType)) {
      try {
        text = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // shown as it came
      }
    }
    return (
      <pre className="url-body" data-testid="url-body">
        {text.length > 20_000 ? `${text.slice(0, 20_000)}…` : text}
      </pre>
    );
  }
  return (
    <p className="muted" data-testid="url-body">
      A {contentType} file of {body.length.toLocaleString('en')} bytes (not shown).
    </p>
  );
}
