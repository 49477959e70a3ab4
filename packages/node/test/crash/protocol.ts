// The line protocol between the crash test (parent) and the wallet process it kills (child): one
// JSON object per line, bigints tagged so amounts survive exactly. Plus the seeded PRNG both use.
import type { FeeTargetName } from '../../src/chain/fees.ts';
import type { PaymentRecord } from '../../src/payments.ts';

/**
 * Both nodes answer LDK with fixed feerates: no update_fee ever, so an idle channel's balances are
 * exact functions of the payments made over it.
 */
export const FIXED_FEES: Record<FeeTargetName, number> = {
  MaximumFeeEstimate: 2_500,
  UrgentOnChainSweep: 2_500,
  MinAllowedAnchorChannelRemoteFee: 253,
  MinAllowedNonAnchorChannelRemoteFee: 253,
  AnchorChannelFee: 500,
  NonAnchorChannelFee: 500,
  ChannelCloseMinimum: 500,
  OutputSpendingFee: 500,
};

export interface HtlcView {
  paymentHash: string;
  amountMsat: bigint;
  cltvExpiry: number;
  state: string;
  isDust: boolean;
}

export interface ChannelView {
  channelId: string;
  fundingTxo: string | undefined;
  capacityMsat: bigint;
  outboundMsat: bigint;
  inboundMsat: bigint;
  /** Our own reserve (what the counterparty makes us keep): balance = outbound + reserve when idle. */
  reserveMsat: bigint;
  isUsable: boolean;
  isReady: boolean;
  pendingInbound: HtlcView[];
  pendingOutbound: HtlcView[];
}

export interface NodeView {
  nodeId: string;
  bestBlockHeight: number;
  peers: string[];
  channels: ChannelView[];
  /** Outbound payment records still `pending`. */
  pendingOutbound: number;
  /** Every payment record: only in a full view (the final check of a cycle). */
  payments?: PaymentRecord[];
}

/** Parent → child, on the child's stdin. */
export type Command =
  | { op: 'state'; id: number; full: boolean }
  | { op: 'invoice'; id: number; amountMsat: bigint }
  /** Start `concurrency` keysend loops to the parent, amounts drawn from the seeded PRNG. */
  | { op: 'traffic'; id: number; seed: number; concurrency: number; minMsat: bigint; maxMsat: bigint }
  | { op: 'quiet'; id: number };

/** Child → parent, on the child's stdout. */
export type Report =
  | { t: 'ready'; nodeId: string; startMs: number; view: NodeView }
  | { t: 'reply'; id: number; view?: NodeView; bolt11?: string; paymentHash?: string; error?: string }
  | { t: 'event'; kind: string; event: unknown }
  | { t: 'fatal'; message: string };

export function encodeLine(value: unknown): string {
  return `${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? { $n: v.toString() } : v))}\n`;
}

export function decodeLine<T>(line: string): T {
  return JSON.parse(line, (_k, v) =>
    v !== null && typeof v === 'object' && typeof v.$n === 'string' && Object.keys(v).length === 1
      ? BigInt(v.$n)
      : v,
  ) as T;
}

/** Splits a byte stream into lines. */
export function lineReader(onLine: (line: string) => void): (chunk: Buffer | string) => void {
  let rest = '';
  return (chunk) => {
    rest += chunk.toString();
    let nl = rest.indexOf('\n');
    while (nl >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (line.trim().length > 0) onLine(line);
      nl = rest.indexOf('\n');
    }
  };
}

export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  bigint(min: bigint, max: bigint): bigint;
}

/** mulberry32: small, seedable, good enough to pick delays and amounts reproducibly. */
export function prng(seed: number): Prng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    bigint: (min, max) => min + BigInt(Math.floor(next() * Number(max - min + 1n))),
  };
}
