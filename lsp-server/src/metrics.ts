// Prometheus metrics in text exposition format 0.0.4. Counters and the histogram are filled by the
// code that sees the event (the Lightning step for opens, forwards, fees); gauges are read from the
// node at scrape time.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { LightningNode } from '@lpw/node';
import { BackupHealth } from './history/backup-health.ts';
import type { LspStore } from './store/types.ts';

type Labels = Record<string, string>;
const labelText = (l: Labels) => {
  const parts = Object.entries(l).map(
    ([k, v]) => `${k}="${v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`,
  );
  return parts.length ? `{${parts.join(',')}}` : '';
};

export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: bigint }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(by: bigint | number = 1, labels: Labels = {}): void {
    const key = labelText(labels);
    const v = BigInt(by);
    if (v < 0n) throw new RangeError(`${this.name}: counters only go up`);
    const cur = this.values.get(key);
    this.values.set(key, { labels, value: (cur?.value ?? 0n) + v });
  }
  get(labels: Labels = {}): bigint {
    return this.values.get(labelText(labels))?.value ?? 0n;
  }
  /** Sum over every label set. */
  total(): bigint {
    let sum = 0n;
    for (const { value } of this.values.values()) sum += value;
    return sum;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const { labels, value } of this.values.values())
      lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines.join('\n');
  }
}

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[],
  ) {
    this.counts = buckets.map(() => 0);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    this.buckets.forEach((b, i) => {
      if (value <= b) this.counts[i]!++;
    });
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => {
      lines.push(`${this.name}_bucket{le="${b}"} ${this.counts[i]}`);
    });
    lines.push(
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${this.sum}`,
      `${this.name}_count ${this.count}`,
    );
    return lines.join('\n');
  }
}

const gauge = (name: string, help: string, value: bigint | number) =>
  `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}`;

export class Metrics {
  readonly jitBuys = new Counter('lsp_jit_buys_total', 'LSPS2 purchases accepted');
  readonly jitChannelsOpened = new Counter('lsp_jit_channels_opened_total', 'JIT channels opened');
  readonly jitHtlcsFailed = new Counter(
    'lsp_jit_htlcs_failed_total',
    'HTLCs to JIT SCIDs failed back, by reason',
  );
  readonly feesEarnedMsat = new Counter(
    'lsp_fees_earned_msat_total',
    'Fees earned (opening and forwarding), msat',
  );
  readonly paymentsForwarded = new Counter('lsp_payments_forwarded_total', 'HTLCs forwarded successfully');
  readonly paymentsFailed = new Counter('lsp_payments_failed_total', 'HTLC forwards that failed');
  readonly httpRequests = new Counter('lsp_http_requests_total', 'HTTP requests by status class');
  readonly rateLimited = new Counter('lsp_rate_limited_total', 'Requests refused by a rate limit');
  readonly tarpit = new Counter(
    'lsp_tarpit_total',
    'Refusals to clients that came back before their Retry-After: held for the wait, or dropped',
  );
  readonly fairHeld = new Counter(
    'lsp_fair_held_total',
    "tRPC requests that waited for their address's turn while the event loop lagged, by outcome",
  );
  /** The event loop's delay since the previous scrape (what a request waits for the thread). */
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  readonly relayRequests = new Counter(
    'lsp_relay_requests_total',
    'Requests relayed for wallets, by outcome (ok, refused, unreachable, timeout, too_large, invalid)',
  );
  readonly relayResponseBytes = new Counter(
    'lsp_relay_response_bytes_total',
    'Bytes relayed back to wallets',
  );
  readonly forwardLatency = new Histogram(
    'lsp_forward_latency_seconds',
    'Time from HTLC received to forwarded',
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );

  /** Whose backups are failing; its count is `lsp_backup_failures_total`. */
  readonly backupHealth = new BackupHealth();
  /** More exposition text computed at scrape time (createLsp adds the alerts). */
  readonly collectors: Array<() => Promise<string>> = [];

  constructor() {
    this.loopDelay.enable();
  }

  /** The thread's busy time since start (a counter) and its delay since the previous scrape. */
  private renderEventLoop(): string[] {
    const delay = this.loopDelay;
    const p99 = delay.count > 0 ? delay.percentile(99) / 1e9 : 0;
    const max = delay.count > 0 ? delay.max / 1e9 : 0;
    delay.reset();
    return [
      `# HELP lsp_event_loop_busy_seconds_total Time the LSP's one thread was busy\n# TYPE lsp_event_loop_busy_seconds_total counter\nlsp_event_loop_busy_seconds_total ${performance.eventLoopUtilization().active / 1000}`,
      gauge(
        'lsp_event_loop_delay_p99_seconds',
        'Event-loop delay, 99th percentile since the previous scrape',
        p99,
      ),
      gauge('lsp_event_loop_delay_max_seconds', 'Event-loop delay, longest since the previous scrape', max),
    ];
  }

  /** The full exposition, reading gauges from the node and store now. */
  async render(node: LightningNode, store: LspStore): Promise<string> {
    const channels = node.listChannels();
    const sum = (f: (c: (typeof channels)[number]) => bigint) => channels.reduce((a, c) => a + f(c), 0n);
    const balances = node.balances();
    const wallets = (await store.listWallets(1_000_000)).length;
    const wasm = node.wasmMemory();
    const monitors = [...node.monitorBytes().values()];
    return [
      gauge('lsp_channels', 'Open channels', channels.length),
      gauge('lsp_channels_usable', 'Usable channels', channels.filter((c) => c.isUsable).length),
      gauge(
        'lsp_channel_capacity_msat',
        'Total channel capacity, msat',
        sum((c) => c.capacityMsat),
      ),
      gauge(
        'lsp_outbound_liquidity_msat',
        'What we can send, msat',
        sum((c) => c.outboundMsat),
      ),
      gauge(
        'lsp_inbound_liquidity_msat',
        'What we can receive, msat',
        sum((c) => c.inboundMsat),
      ),
      gauge('lsp_onchain_balance_sat', 'On-chain wallet balance, sat', balances.onchainConfirmedMsat / 1000n),
      gauge('lsp_peers', 'Connected peers', node.listPeers().length),
      gauge('lsp_wallets', 'Wallets that have logged in', wallets),
      // the node warns (event wasm-memory-high, a log line) above 70% of the limit
      ...(wasm
        ? [
            gauge('lsp_wasm_memory_bytes', "LDK's WASM linear memory; it never shrinks", wasm.usedBytes),
            gauge(
              'lsp_wasm_memory_limit_bytes',
              "LDK's WASM memory limit; the process dies there",
              wasm.limitBytes,
            ),
          ]
        : []),
      // per-payment work on a channel grows with its monitor (alert channel_monitor)
      gauge(
        'lsp_channel_monitor_bytes_max',
        "The largest channel's stored monitor, bytes: it grows with every payment over the channel",
        Math.max(0, ...monitors),
      ),
      gauge(
        'lsp_channel_monitor_bytes_total',
        "Every open channel's stored monitor, bytes",
        monitors.reduce((a, b) => a + b, 0),
      ),
      this.jitBuys.render(),
      this.jitChannelsOpened.render(),
      this.jitHtlcsFailed.render(),
      this.feesEarnedMsat.render(),
      this.paymentsForwarded.render(),
      this.paymentsFailed.render(),
      this.httpRequests.render(),
      this.rateLimited.render(),
      this.tarpit.render(),
      this.fairHeld.render(),
      ...this.renderEventLoop(),
      this.relayRequests.render(),
      this.relayResponseBytes.render(),
      this.forwardLatency.render(),
      `# HELP lsp_backup_failures_total Wallet backup writes refused\n# TYPE lsp_backup_failures_total counter\nlsp_backup_failures_total ${this.backupHealth.failures}`,
      ...(await Promise.all(this.collectors.map((collect) => collect()))),
      '',
    ].join('\n');
  }
}
