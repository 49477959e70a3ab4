// A paid site's budget: what it may be paid in total, what it has been paid, and a field to change
// the budget (on the L402 screen and in Settings).
import { useState } from 'react';
import { inWords } from '../lib/messages.ts';
import { budgetLeftMsat, type PaidSite } from '../lib/paid-url.ts';
import { parseAmountInput } from '../lib/units.ts';
import { useSettings } from '../stores/settings.ts';
import { useWeb } from '../stores/web.ts';
import { Amount, Notice } from './ui.tsx';

export const siteName = (origin: string) => new URL(origin).host;

export function SiteBudget(props: { site: PaidSite }) {
  const { site } = props;
  const unit = useSettings((s) => s.unit);
  const setBudget = useWeb((s) => s.setBudget);
  const [text, setText] = useState('');
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; text: string }>();
  const left = budgetLeftMsat(site);
  const save = async () => {
    try {
      const budgetMsat = parseAmountInput(text, unit);
      if (budgetMsat === undefined) return setMessage({ tone: 'error', text: 'Enter a budget.' });
      await setBudget(site.origin, budgetMsat);
      setText('');
      setMessage({ tone: 'ok', text: 'Budget saved.' });
    } catch (err) {
      setMessage({ tone: 'error', text: inWords(err) });
    }
  };
  return (
    <form
      className="site-budget"
      data-testid="site-budget"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <dl className="facts">
        <dt>Site</dt>
        <dd>{siteName(site.origin)}</dd>
        <dt>Paid with fees</dt>
        <dd data-testid="site-spent">
          <Amount msat={site.spentMsat} round="ceil" />
        </dd>
        <dt>Budget</dt>
        <dd data-testid="site-left">
          {site.budgetMsat === undefined ? (
            'not set'
          ) : (
            <>
              <Amount msat={site.budgetMsat} />, <Amount msat={left ?? 0n} /> left
            </>
          )}
        </dd>
      </dl>
      <label className="field">
        <span>
          New budget for {siteName(site.origin)} ({unit === 'sat' ? 'sats' : 'BTC'})
        </span>
        <input
          name="site-budget"
          inputMode="decimal"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
      </label>
      {message && <Notice tone={message.tone}>{message.text}</Notice>}
      <div className="actions">
        <button type="submit" className="secondary" disabled={text.trim() === ''}>
          Save budget
        </button>
      </div>
    </form>
  );
}
