// Money on its way from closed channels to the on-chain wallet: per closed channel the amount and
// the wait in blocks and hours (a force close's CSV delay), then the sweeps moving it in.
import { Amount } from '../../components/ui.tsx';
import { useWallet } from '../../stores/wallet.ts';
import type { ClosingView, SweepView } from '../../worker/protocol.ts';

/** "about 23.8 hours", "about 2.5 days": what a number of 10-minute blocks means to a person. */
export function waitInWords(hours: number): string {
  return hours < 48 ? `about ${hours} hours` : `about ${Math.round(hours / 2.4) / 10} days`;
}

function closingWait(c: ClosingView): string {
  if (c.blocksLeft === undefined) return 'Waiting for the closing transaction to confirm';
  if (c.blocksLeft === 0) return 'Ready: moving to your on-chain wallet with the next block';
  return `${c.blocksLeft} ${c.blocksLeft === 1 ? 'block' : 'blocks'} left (${waitInWords(c.hoursLeft ?? 0)})`;
}

const SWEEP_WORDS: Record<SweepView['status'], string> = {
  waiting: 'Being sent to your on-chain wallet',
  broadcast: 'Sent to your on-chain wallet, waiting for a block',
  confirming: 'In your on-chain wallet soon',
};

export function Exits() {
  const snap = useWallet((s) => s.snapshot);
  // the node lists only sweeps the on-chain balance does not count yet (packages/node balances.ts)
  const sweeps = snap?.sweeps ?? [];
  if (!snap || (snap.closing.length === 0 && sweeps.length === 0)) return null;
  return (
    <section aria-label="On its way" data-testid="exits" data-msat={snap.onchain.closingMsat.toString()}>
      <h2>On its way to your on-chain wallet</h2>
      <ul className="history">
        {snap.closing.map((c) => (
          <li
            className="payment"
            key={c.channelId}
            data-testid="closing-row"
            data-blocks-left={c.blocksLeft ?? ''}
          >
            <div className="what">
              <span className="label">Closed channel</span>
              <span className="meta">{closingWait(c)}</span>
            </div>
            <span className="sum">
              <Amount msat={c.claimableMsat} />
            </span>
          </li>
        ))}
        {sweeps.map((w) => (
          <li className="payment" key={w.outpoint} data-testid="sweep-row" data-status={w.status}>
            <div className="what">
              <span className="label">From a closed channel</span>
              <span className="meta">{SWEEP_WORDS[w.status]}</span>
            </div>
            <span className="sum">
              <Amount msat={w.amountMsat} />
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
