// Server-rendered admin HTML: template strings with every value escaped, no inline script or style
// (CSP: default-src 'none'; style-src 'self'; script-src 'self'; form-action 'self'). Every form
// carries the CSRF token; every action is shown with its fee on a confirmation page first.

import type { ChannelSummary, ForwardingFees } from '@lpw/node';
import type { Alert } from '../alerts.ts';
import type { BackupFailure } from '../history/backup-health.ts';
import type { AdminActionRecord, BackupSummary, JitPurchaseRecord } from '../store/types.ts';
import { CHANNEL_RANGES, type ChannelRangeName, type ChartData, type ChartSet, RANGES } from './charts.ts';

export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const sat = (msat: bigint) => (msat / 1000n).toLocaleString('en-US');

export function page(title: string, body: string, scripts: string[] = []): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><link rel="stylesheet" href="/admin/style.css">${scripts.length ? '<link rel="stylesheet" href="/admin/uplot.css">' : ''}</head>
<body><header><h1>${esc(title)}</h1>${title === 'LSP admin' ? '' : '<a href="/admin">Back to the dashboard</a>'}</header><main>${body}</main>${scripts
    .map((src) => `<script src="${esc(src)}"></script>`)
    .join('')}</body></html>`;
}

const csrfField = (token: string) => `<input type="hidden" name="csrf" value="${esc(token)}">`;
const short = (id: string) => `${id.slice(0, 16)}…`;
const msatText = (msat: bigint) => `${sat(msat)} sat (${msat.toLocaleString('en-US')} msat)`;

export type ChannelView = Pick<
  ChannelSummary,
  'channelId' | 'peerId' | 'capacityMsat' | 'outboundMsat' | 'inboundMsat' | 'isUsable'
>;

/** Outbound against inbound as a meter: no inline style needed, and read out by screen readers. */
const balanceBar = (c: ChannelView) =>
  `<meter min="0" max="${esc((c.outboundMsat + c.inboundMsat).toString())}" value="${esc(c.outboundMsat.toString())}" aria-label="${esc(
    `outbound ${sat(c.outboundMsat)} sat of ${sat(c.outboundMsat + c.inboundMsat)} sat`,
  )}"></meter>`;

const channelRows = (channels: ChannelView[], actions: boolean) =>
  channels.map((c) => [
    `<a href="/admin/channels/${esc(c.channelId)}"><code>${esc(short(c.channelId))}</code><span class="visually-hidden"> liquidity history</span></a>`,
    `<a href="/admin/wallets/${esc(c.peerId)}"><code>${esc(short(c.peerId))}</code></a>`,
    esc(sat(c.capacityMsat)),
    `${esc(sat(c.outboundMsat))} / ${esc(sat(c.inboundMsat))} ${balanceBar(c)}`,
    c.isUsable ? 'yes' : 'no',
    ...(actions
      ? [
          `<a href="/admin/channels/${esc(c.channelId)}/close">Close<span class="visually-hidden"> channel ${esc(short(c.channelId))}</span></a>`,
        ]
      : []),
  ]);
const CHANNEL_HEAD = ['Channel', 'Peer', 'Capacity (sat)', 'Outbound / inbound (sat)', 'Usable'];

export interface DashboardModel {
  nodeId: string;
  network: string;
  onchainSat: bigint;
  outboundMsat: bigint;
  inboundMsat: bigint;
  feesEarnedMsat: bigint;
  alerts: Alert[];
  charts: ChartData;
  channels: ChannelView[];
  wallets: { nodeId: string; createdAt: string; lastLoginAt: string }[];
  forwards: { at: string; inboundMsat: bigint; outboundMsat: bigint; feeMsat: bigint; outcome: string }[];
  feePolicy: { minFeeMsat: bigint; proportional: number };
  routingFees: ForwardingFees;
  actions: AdminActionRecord[];
  csrf: string;
  message?: string;
}

const table = (head: string[], rows: string[][], empty: string) =>
  rows.length === 0
    ? `<p class="empty">${esc(empty)}</p>`
    : `<div class="scroll"><table><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
        .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
        .join('')}</tbody></table></div>`;

function alertsSection(alerts: Alert[]): string {
  const firing = alerts.filter((a) => a.firing);
  return `<section aria-labelledby="alerts-h"><h2 id="alerts-h">Alerts (${firing.length} firing)</h2>
<ul class="alerts">${alerts
    .map(
      (a) =>
        `<li class="${a.firing ? 'firing' : 'ok'}" data-alert="${esc(a.kind)}"><strong>${a.firing ? 'Firing' : 'OK'}: ${esc(
          a.kind,
        )}</strong> — ${esc(a.detail)}</li>`,
    )
    .join('')}</ul></section>`;
}

function chartsSection(d: ChartData): string {
  const t = d.totals;
  const ranges = Object.entries(RANGES)
    .map(([name, r]) =>
      name === d.range
        ? `<strong aria-current="page">${esc(r.label)}</strong>`
        : `<a href="/admin?range=${esc(name)}">${esc(r.label)}</a>`,
    )
    .join(' · ');
  return `<section aria-labelledby="history-h"><h2 id="history-h">History</h2>
<p>${ranges}</p>
<p id="history-totals">In this range: <span data-total="forwards">${esc(t.forwards)}</span> forwards, <span data-total="forwards-failed">${esc(
    t.forwardsFailed,
  )}</span> failed; routing fees <span data-total="forward-fees-msat">${esc(t.forwardFeesMsat)}</span> msat; <span data-total="jit-opens">${esc(
    t.jitOpens,
  )}</span> JIT opens earning <span data-total="jit-fees-msat">${esc(t.jitFeesMsat)}</span> msat.</p>
${chartFigures(d)}</section>`;
}

/** The charts' figures and their data block (drawn by /admin/charts.js). */
function chartFigures(d: ChartSet): string {
  return `<div class="charts">${d.charts
    .map(
      (c) =>
        `<figure><figcaption id="cap-${esc(c.id)}">${esc(c.title)}</figcaption><div class="chart" id="chart-${esc(
          c.id,
        )}" role="img" aria-labelledby="cap-${esc(c.id)}"></div></figure>`,
    )
    .join('')}</div>
<script type="application/json" id="history-data">${JSON.stringify(d).replace(/</g, '\\u003c')}</script>`;
}

function actionLogSection(actions: AdminActionRecord[]): string {
  return `<section aria-labelledby="log-h"><h2 id="log-h">Action log</h2>${table(
    ['Time', 'Action', 'Parameters', 'Outcome'],
    actions.map((a) => [
      esc(new Date(a.atMs).toISOString()),
      esc(a.action),
      Object.entries(a.params)
        .map(([k, v]) => `${esc(k)}=<code>${esc(v)}</code>`)
        .join(' '),
      `<span data-outcome="${esc(a.outcome)}">${esc(a.outcome)}</span>: ${esc(a.detail)}`,
    ]),
    'No admin actions yet.',
  )}</section>`;
}

export function dashboard(m: DashboardModel): string {
  return page(
    'LSP admin',
    `${m.message ? `<p class="message" role="status">${esc(m.message)}</p>` : ''}
${alertsSection(m.alerts)}
<section aria-labelledby="node-h"><h2 id="node-h">Node</h2><dl>
<dt>Node id</dt><dd><code>${esc(m.nodeId)}</code></dd>
<dt>Network</dt><dd>${esc(m.network)}</dd>
<dt>On-chain balance</dt><dd>${esc(m.onchainSat.toLocaleString('en-US'))} sat</dd>
<dt>Outbound liquidity</dt><dd>${esc(sat(m.outboundMsat))} sat</dd>
<dt>Inbound liquidity</dt><dd>${esc(sat(m.inboundMsat))} sat</dd>
<dt>Fees earned</dt><dd>${esc(m.feesEarnedMsat.toString())} msat</dd>
</dl></section>
${chartsSection(m.charts)}
<section aria-labelledby="channels-h"><h2 id="channels-h">Channels (${m.channels.length})</h2>${table(
      [...CHANNEL_HEAD, 'Action'],
      channelRows(m.channels, true),
      'No channels yet.',
    )}</section>
<section aria-labelledby="open-h"><h2 id="open-h">Open a channel to a public peer</h2>
<form method="post" action="/admin/channels">${csrfField(m.csrf)}
<label>Node id <input name="peerId" required pattern="0[23][0-9a-f]{64}" size="68"></label>
<label>Address (host:port) <input name="address" required maxlength="255"></label>
<label>Capacity (sat) <input name="capacitySat" required inputmode="numeric" pattern="[0-9]{1,12}"></label>
<label><input type="checkbox" name="announce" value="1"> Announce</label>
<button type="submit">Review the open</button>
</form></section>
<section aria-labelledby="fees-h"><h2 id="fees-h">JIT fee policy</h2>
<p>Opening fee = max(minimum, payment × proportional / 1,000,000). Now: minimum ${esc(
      msatText(m.feePolicy.minFeeMsat),
    )}, proportional ${esc(m.feePolicy.proportional.toLocaleString('en-US'))} ppm.</p>
<form method="post" action="/admin/fee-policy">${csrfField(m.csrf)}
<label>Minimum fee (msat) <input name="minFeeMsat" required inputmode="numeric" pattern="[0-9]{1,20}" value="${esc(
      m.feePolicy.minFeeMsat.toString(),
    )}"></label>
<label>Proportional (ppm) <input name="proportional" required inputmode="numeric" pattern="[0-9]{1,10}" value="${esc(
      m.feePolicy.proportional,
    )}"></label>
<button type="submit">Review the change</button>
</form></section>
<section aria-labelledby="routing-h"><h2 id="routing-h">Routing fees</h2>
<p>Every forward over our channels earns base + amount × proportional / 1,000,000. Now: base ${esc(
      m.routingFees.baseMsat.toLocaleString('en-US'),
    )} msat, proportional ${esc(m.routingFees.proportionalMillionths.toLocaleString('en-US'))} ppm, on every channel.</p>
<form method="post" action="/admin/routing-fees">${csrfField(m.csrf)}
<label>Base fee (msat) <input name="baseMsat" required inputmode="numeric" pattern="[0-9]{1,10}" value="${esc(
      m.routingFees.baseMsat,
    )}"></label>
<label>Proportional fee (ppm) <input name="proportionalMillionths" required inputmode="numeric" pattern="[0-9]{1,10}" value="${esc(
      m.routingFees.proportionalMillionths,
    )}"></label>
<button type="submit">Review the routing fees</button>
</form></section>
<section aria-labelledby="wallets-h"><h2 id="wallets-h">Wallets (${m.wallets.length})</h2>${table(
      ['Node id', 'Since', 'Last login'],
      m.wallets.map((w) => [
        `<a href="/admin/wallets/${esc(w.nodeId)}"><code>${esc(w.nodeId)}</code></a>`,
        esc(w.createdAt),
        esc(w.lastLoginAt),
      ]),
      'No wallets yet.',
    )}</section>
<section aria-labelledby="forwards-h"><h2 id="forwards-h">Recent forwards</h2>${table(
      ['Time', 'In (msat)', 'Out (msat)', 'Fee (msat)', 'Outcome'],
      m.forwards.map((f) => [
        esc(f.at),
        esc(f.inboundMsat.toString()),
        esc(f.outboundMsat.toString()),
        esc(f.feeMsat.toString()),
        esc(f.outcome),
      ]),
      'No forwards yet.',
    )}</section>
${actionLogSection(m.actions)}`,
    ['/admin/uplot.js', '/admin/charts.js'],
  );
}

export interface ChannelPageModel {
  channel: ChannelView;
  charts: ChartSet & { range: ChannelRangeName };
}

/** One channel: its balance now and its liquidity over time (the sampler's hourly points). */
export function channelPage(m: ChannelPageModel): string {
  const c = m.channel;
  const ranges = Object.entries(CHANNEL_RANGES)
    .map(([name, r]) =>
      name === m.charts.range
        ? `<strong aria-current="page">${esc(r.label)}</strong>`
        : `<a href="/admin/channels/${esc(c.channelId)}?range=${esc(name)}">${esc(r.label)}</a>`,
    )
    .join(' · ');
  return page(
    'Channel',
    `<section aria-labelledby="ch-h"><h2 id="ch-h">Channel <code>${esc(short(c.channelId))}</code></h2>${table(
      [...CHANNEL_HEAD, 'Action'],
      channelRows([c], true),
      '',
    )}</section>
<section aria-labelledby="chh-h"><h2 id="chh-h">Liquidity over time</h2><p>${ranges}</p>
<p>Sampled every hour (the latest sample of each hour); outbound is what we can send over it, inbound what we can receive.</p>
${chartFigures(m.charts)}</section>`,
    ['/admin/uplot.js', '/admin/charts.js'],
  );
}

/** A confirmation: what will happen, what it costs, and the form that does it. */
export function confirmPage(c: {
  title: string;
  facts: [string, string][];
  fee: string;
  action: string;
  fields: Record<string, string>;
  button: string;
  csrf: string;
}): string {
  return page(
    c.title,
    `<section aria-labelledby="what-h"><h2 id="what-h">What will happen</h2><dl>${c.facts
      .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
      .join('')}<dt>Fee</dt><dd data-fee>${esc(c.fee)}</dd></dl>
<form method="post" action="${esc(c.action)}">${csrfField(c.csrf)}<input type="hidden" name="confirm" value="yes">${Object.entries(
      c.fields,
    )
      .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
      .join('')}<button type="submit">${esc(c.button)}</button> <a href="/admin">Cancel</a></form></section>`,
  );
}

export interface CloseModel {
  channel: ChannelView;
  /** Estimates per channel (the node's figure for its usable channels, shared out). */
  cooperativeFeeMsat: bigint;
  forceFeeMsat: bigint;
  csrf: string;
}

export function closePage(m: CloseModel): string {
  const c = m.channel;
  const form = (force: boolean, fee: bigint, text: string, why: string) =>
    `<section aria-labelledby="${force ? 'force' : 'coop'}-h"><h2 id="${force ? 'force' : 'coop'}-h">${esc(text)}</h2><p>${esc(
      why,
    )}</p><p>Estimated fee: <strong data-fee="${force ? 'force' : 'cooperative'}">${esc(msatText(fee))}</strong></p>
<form method="post" action="/admin/channels/${esc(c.channelId)}/close">${csrfField(m.csrf)}<input type="hidden" name="confirm" value="yes"><input type="hidden" name="mode" value="${
      force ? 'force' : 'cooperative'
    }"><button type="submit"${force ? ' class="danger"' : ''}>${esc(text)}</button></form></section>`;
  return page(
    'Close a channel',
    `<section aria-labelledby="ch-h"><h2 id="ch-h">Channel</h2>${table([...CHANNEL_HEAD], channelRows([c], false), '')}</section>
${form(false, m.cooperativeFeeMsat, 'Close cooperatively', 'Both sides sign a closing transaction; the funds are on chain in a block. Needs the peer online.')}
${form(true, m.forceFeeMsat, 'Force close', 'Broadcasts our latest commitment without the peer; our funds wait for the delay we agreed to. Use only when the peer is gone.')}
<p><a href="/admin">Cancel</a></p>`,
  );
}

export interface WalletModel {
  nodeId: string;
  createdAt: string;
  lastLoginAt: string;
  online: boolean;
  channels: ChannelView[];
  purchases: JitPurchaseRecord[];
  backups: BackupSummary[];
  backupFailure: BackupFailure | undefined;
}

export function walletPage(m: WalletModel): string {
  return page(
    'Wallet',
    `<section aria-labelledby="w-h"><h2 id="w-h">Wallet</h2><dl>
<dt>Node id</dt><dd><code>${esc(m.nodeId)}</code></dd>
<dt>Since</dt><dd>${esc(m.createdAt)}</dd><dt>Last login</dt><dd>${esc(m.lastLoginAt)}</dd>
<dt>Online</dt><dd>${m.online ? 'yes' : 'no'}</dd>
<dt>Backup state</dt><dd data-backup-state>${
      m.backupFailure
        ? esc(
            `failing: latest write refused (${m.backupFailure.code}) at ${new Date(m.backupFailure.atMs).toISOString()}`,
          )
        : m.backups.length
          ? 'stored'
          : 'no backup yet'
    }</dd></dl></section>
<section aria-labelledby="wc-h"><h2 id="wc-h">Channels (${m.channels.length})</h2>${table(
      [...CHANNEL_HEAD, 'Action'],
      channelRows(m.channels, true),
      'No channels with this wallet.',
    )}</section>
<section aria-labelledby="wj-h"><h2 id="wj-h">JIT purchases (${m.purchases.length})</h2>${table(
      ['SCID', 'State', 'Payment (msat)', 'Opening fee (msat)', 'Bought'],
      m.purchases.map((p) => [
        `<code>${esc(p.scid.toString())}</code>`,
        esc(p.state),
        esc(p.paymentSizeMsat?.toString() ?? '—'),
        esc(p.openingFeeMsat?.toString() ?? '—'),
        esc(new Date(p.createdAtMs).toISOString()),
      ]),
      'No JIT purchases.',
    )}</section>
<section aria-labelledby="wb-h"><h2 id="wb-h">Backups (${m.backups.length})</h2>${table(
      ['Key', 'Version', 'Bytes', 'Updated'],
      m.backups.map((b) => [
        `<code>${esc(b.key)}</code>`,
        esc(b.version),
        esc(b.size.toLocaleString('en-US')),
        esc(new Date(b.updatedAtMs).toISOString()),
      ]),
      'No backups stored.',
    )}</section>`,
  );
}

export const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#1b1b1b;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1rem;align-items:baseline;flex-wrap:wrap}
header a{color:#fff}h1{font-size:1.2rem;margin:0}
main{padding:1rem 1.2rem;max-width:72rem}section{margin-bottom:1.6rem}
.scroll{overflow-x:auto;position:relative}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dd{margin:0;overflow-wrap:anywhere}
form{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end}label{display:flex;flex-direction:column;font-size:.85rem;max-width:100%;min-width:0}
input{max-width:100%;box-sizing:border-box;font:inherit}button{font:inherit;padding:.3rem .8rem}button.danger{background:#a40e26;color:#fff;border:0}
.message{background:#fff4c2;padding:.5rem .8rem;border-radius:4px}.empty{color:#595959}
.alerts{list-style:none;padding:0;margin:0;display:grid;gap:.3rem}
.alerts li{padding:.35rem .6rem;border-radius:4px;border-left:6px solid}
.alerts .firing{background:#ffebe9;border-color:#a40e26}.alerts .ok{background:#eef6ee;border-color:#1a7f37}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,30rem),1fr));gap:1rem}
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:4px;padding:.5rem;min-width:0}
figcaption{font-weight:600;margin-bottom:.3rem}.chart{width:100%;min-height:200px}
meter{display:block;width:8rem;max-width:100%}code{overflow-wrap:anywhere}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
@media (max-width:40rem){main{padding:.8rem}dl{grid-template-columns:1fr}dt{font-weight:600}}`;
