// The channel and the LSP behind it: capacity, what can be sent and received now, the backup.
import { Amount, Frame, Notice } from '../../components/ui.tsx';
import { useWallet } from '../../stores/wallet.ts';

export function Channel() {
  const snap = useWallet((s) => s.snapshot);
  const channels = snap?.channels ?? [];
  return (
    <Frame title="Channel" back testId="screen-channel">
      {channels.length === 0 ? (
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
          </dl>
        ))
      )}
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
