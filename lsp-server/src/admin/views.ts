// Server-rendered admin HTML: template strings with every value escaped, no inline script or style
// (CSP: default-src 'none'; style-src 'self'; form-action 'self').

export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const sat = (msat: bigint) => (msat / 1000n).toLocaleString('en-US');

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><link rel="stylesheet" href="/admin/style.css"></head>
<body><header><h1>${esc(title)}</h1></header><main>${body}</main></body></html>`;
}

export interface DashboardModel {
  nodeId: string;
  network: string;
  onchainSat: bigint;
  outboundMsat: bigint;
  inboundMsat: bigint;
  feesEarnedMsat: bigint;
  channels: {
    channelId: string;
    peerId: string;
    capacityMsat: bigint;
    outboundMsat: bigint;
    inboundMsat: bigint;
    isUsable: boolean;
  }[];
  wallets: { nodeId: string; createdAt: string; lastLoginAt: string }[];
  forwards: { at: string; inboundMsat: bigint; outboundMsat: bigint; feeMsat: bigint; outcome: string }[];
  message?: string;
}

const table = (head: string[], rows: string[][], empty: string) =>
  rows.length === 0
    ? `<p class="empty">${esc(empty)}</p>`
    : `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
        .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
        .join('')}</tbody></table>`;

export function dashboard(m: DashboardModel): string {
  return page(
    'LSP admin',
    `${m.message ? `<p class="message">${esc(m.message)}</p>` : ''}
<section><h2>Node</h2><dl>
<dt>Node id</dt><dd><code>${esc(m.nodeId)}</code></dd>
<dt>Network</dt><dd>${esc(m.network)}</dd>
<dt>On-chain balance</dt><dd>${esc(m.onchainSat.toLocaleString('en-US'))} sat</dd>
<dt>Outbound liquidity</dt><dd>${esc(sat(m.outboundMsat))} sat</dd>
<dt>Inbound liquidity</dt><dd>${esc(sat(m.inboundMsat))} sat</dd>
<dt>Fees earned</dt><dd>${esc(m.feesEarnedMsat.toString())} msat</dd>
</dl></section>
<section><h2>Channels (${m.channels.length})</h2>${table(
      ['Channel', 'Peer', 'Capacity (sat)', 'Outbound (sat)', 'Inbound (sat)', 'Usable'],
      m.channels.map((c) => [
        `<code>${esc(c.channelId.slice(0, 16))}…</code>`,
        `<code>${esc(c.peerId.slice(0, 16))}…</code>`,
        esc(sat(c.capacityMsat)),
        esc(sat(c.outboundMsat)),
        esc(sat(c.inboundMsat)),
        c.isUsable ? 'yes' : 'no',
      ]),
      'No channels yet.',
    )}</section>
<section><h2>Open a channel to a public peer</h2>
<form method="post" action="/admin/channels">
<label>Node id <input name="peerId" required pattern="0[23][0-9a-f]{64}" size="68"></label>
<label>Address (host:port) <input name="address" required maxlength="255"></label>
<label>Capacity (sat) <input name="capacitySat" required inputmode="numeric" pattern="[0-9]{1,12}"></label>
<label><input type="checkbox" name="announce" value="1"> Announce</label>
<button type="submit">Open channel</button>
</form></section>
<section><h2>Wallets (${m.wallets.length})</h2>${table(
      ['Node id', 'Since', 'Last login'],
      m.wallets.map((w) => [`<code>${esc(w.nodeId)}</code>`, esc(w.createdAt), esc(w.lastLoginAt)]),
      'No wallets yet.',
    )}</section>
<section><h2>Recent forwards</h2>${table(
      ['Time', 'In (msat)', 'Out (msat)', 'Fee (msat)', 'Outcome'],
      m.forwards.map((f) => [
        esc(f.at),
        esc(f.inboundMsat.toString()),
        esc(f.outboundMsat.toString()),
        esc(f.feeMsat.toString()),
        esc(f.outcome),
      ]),
      'No forwards yet.',
    )}</section>`,
  );
}

export const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#1b1b1b;color:#fff;padding:.6rem 1.2rem}h1{font-size:1.2rem;margin:0}
main{padding:1rem 1.2rem;max-width:72rem}section{margin-bottom:1.6rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dd{margin:0}
form{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end}label{display:flex;flex-direction:column;font-size:.85rem}
.message{background:#fff4c2;padding:.5rem .8rem;border-radius:4px}.empty{color:#777}`;
