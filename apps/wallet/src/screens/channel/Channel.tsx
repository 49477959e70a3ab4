// The channel and the LSP behind it: capacity, what can be sent and received now, the backup; and
// the way out — a cooperative close, or a force close that needs no LSP — each confirmed after
// saying what happens and how long the money waits.
import { useState } from 'react';
import { Amount, Frame, Notice } from '../../components/ui.tsx';
import { inWords } from '../../lib/messages.ts';
import { useWallet } from '../../stores/wallet.ts';
import type { ChannelView, FeesView } from '../../worker/protocol.ts';
import { Exits, waitInWords } from '../onchain/Exits.tsx';

/** Blocks at 10 minutes each, in hours (one decimal). */
const hoursOf = (blocks: number) => Math.round((blocks * 10) / 6) / 10;

/**
 * What this close costs in network fees now (the node's estimate), shown before the person
 * confirms, with the high-fees notice when it applies.
 */
function CloseFee(props: { force: boolean; fees: FeesView | undefined }) {
  const { fees } = props;
  if (!fees) return null;
  const feeMsat = props.force ? fees.closeCostMsat.force : fees.closeCostMsat.cooperative;
  return (
    <>
      <p data-testid="close-fee" data-msat={feeMsat.toString()}>
        {feeMsat === 0n ? (
          'Network fee for you: none; your provider opened the channel and pays it.'
        ) : (
          <>
            Network fee for you: about <Amount msat={feeMsat} round="ceil" /> at today’s rates
            {props.force ? ', taken when your money moves to your on-chain wallet.' : '.'}
          </>
        )}
      </p>
      {fees.notice && (
        <Notice tone="warn" testId="close-fees-high">
          {fees.notice.charAt(0).toUpperCase() + fees.notice.slice(1)}; closing costs more than usual too.
        </Notice>
      )}
    </>
  );
}

function CloseChannel(props: { channel: ChannelView; lspReachable: boolean; fees: FeesView | undefined }) {
  const { channel } = props;
  const closeChannel = useWallet((s) => s.closeChannel);
  const [asking, setAsking] = useState<'close' | 'force'>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const delay = channel.toSelfDelay;
  const close = async (force: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      await closeChannel(channel.channelId, force);
      setAsking(undefined);
    } catch (e) {
      setError(inWords(e));
    } finally {
      setBusy(false);
    }
  };
  if (!asking)
    return (
      <>
        <div className="pair">
          <button
            type="button"
            className="secondary"
            disabled={!props.lspReachable}
            onClick={() => setAsking('close')}
          >
            Close
          </button>
          <button type="button" className="secondary" onClick={() => setAsking('force')}>
            Force close
          </button>
        </div>
        {!props.lspReachable && (
          <p className="muted small">Closing together needs your provider online; a force close does not.</p>
        )}
        {error && <Notice tone="error">{error}</Notice>}
      </>
    );
  return (
    <div data-testid={`confirm-${asking}`}>
      {asking === 'close' ? (
        <Notice tone="info">
          You and your provider sign a closing transaction together. Your{' '}
          <Amount msat={channel.balanceMsat} /> arrive in your on-chain wallet once it confirms, usually
          within an hour.
        </Notice>
      ) : (
        <Notice tone="warn">
          Your wallet closes the channel on its own, without your provider. Your{' '}
          <Amount msat={channel.balanceMsat} /> stay locked for{' '}
          {delay === undefined ? 'a while' : `${delay} blocks (${waitInWords(hoursOf(delay))})`} after the
          closing transaction confirms, then move to your on-chain wallet by themselves, less a network fee.
          Use this when your provider is gone. You can’t undo it.
        </Notice>
      )}
      <CloseFee force={asking === 'force'} fees={props.fees} />
      <div className="pair">
        <button type="button" className="secondary" disabled={busy} onClick={() => setAsking(undefined)}>
          Keep channel
        </button>
        <button
          type="button"
          className="primary"
          disabled={busy}
          onClick={() => void close(asking === 'force')}
        >
          {asking === 'force' ? 'Force close now' : 'Close channel'}
        </button>
      </div>
      {error && <Notice tone="error">{error}</Notice>}
    </div>
  );
}

export function Channel() {
  const snap = useWallet((s) => s.snapshot);
  const channels = snap?.channels ?? [];
  return (
    <Frame title="Channel" back testId="screen-channel">
      {channels.length === 0 && (snap?.closing.length ?? 0) > 0 ? null : channels.length === 0 ? (
        <Notice tone="info">
          No channel yet. Your first payment in opens one: your service provider sets it up just in time and
          takes a fee from that payment, shown before you agree.
        </Notice>
      ) : (
        channels.map((c) => (
          <dl className="facts" key={c.channelId} data-testid="channel-facts">
            <dt>Capacity</dt>
            <dd data-testid="channel-capacity">
              <Amount msat={c.capacityMsat} />
            </dd>
            <dt>Can send</dt>
            <dd>
              <Amount msat={c.outboundMsat} />
            </dd>
            <dt>Can receive</dt>
            <dd>
              <Amount msat={c.inboundMsat} />
            </dd>
            <dt>State</dt>
            <dd>{c.isUsable ? 'Ready' : 'Not usable right now'}</dd>
            <dd className="wide">
              <CloseChannel channel={c} lspReachable={snap?.lsp.reachable ?? false} fees={snap?.fees} />
            </dd>
          </dl>
        ))
      )}
      <Exits />
      <h2>Service provider</h2>
      <dl className="facts">
        <dt>Address</dt>
        <dd className="mono">{snap?.lsp.url}</dd>
        <dt>Node</dt>
        <dd className="mono small">{snap?.lsp.nodeId ?? 'unknown'}</dd>
        <dt>Connection</dt>
        <dd>{snap?.lsp.reachable ? 'Connected' : (snap?.lsp.problem ?? 'Not connected')}</dd>
        <dt>Backup</dt>
        <dd>
          {snap?.backup.problem ??
            (snap?.backup.savedAt
              ? `Saved (version ${snap.backup.version}) at ${new Date(snap.backup.savedAt).toLocaleTimeString()}`
              : snap?.backup.version
                ? `Version ${snap.backup.version}`
                : 'Not yet')}
        </dd>
      </dl>
      <h2>This wallet</h2>
      <dl className="facts">
        <dt>Node id</dt>
        <dd className="mono small">{snap?.nodeId ?? '…'}</dd>
        <dt>Network</dt>
        <dd>{snap?.network ?? '…'}</dd>
      </dl>
    </Frame>
  );
}
