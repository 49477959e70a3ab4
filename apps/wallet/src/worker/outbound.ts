// Outbound payments the wallet sends along LSP-found routes (lsp-server's `payWithRoute` calls LDK
// directly, so the node's own payment records do not see them). Kept in the node's store under
// `wallet/outbound/`, so they are in the same database and the same backups as the channel state.
import type { Store } from '@lpw/node';
import type { PaymentView } from './protocol.ts';

export const OUTBOUND_PREFIX = 'wallet/outbound/';

export interface OutboundRecord {
  paymentHash: string;
  status: 'pending' | 'succeeded' | 'failed';
  amountMsat: bigint;
  feeMsat: bigint | undefined;
  description: string | undefined;
  preimage: string | undefined;
  failureReason: string | undefined;
  createdAt: number;
  updatedAt: number;
}

/** msat travel as decimal strings in these fields only (a description may look like anything). */
export function encodeOutbound(r: OutboundRecord): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ ...r, amountMsat: r.amountMsat.toString(), feeMsat: r.feeMsat?.toString() }),
  );
}

export function decodeOutbound(bytes: Uint8Array): OutboundRecord {
  const plain = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  return {
    ...(plain as unknown as OutboundRecord),
    amountMsat: BigInt(plain.amountMsat as string),
    feeMsat: typeof plain.feeMsat === 'string' ? BigInt(plain.feeMsat) : undefined,
  };
}

export function outboundFrom(data: Map<string, Uint8Array>): OutboundRecord[] {
  const out: OutboundRecord[] = [];
  for (const [key, value] of data) {
    if (!key.startsWith(OUTBOUND_PREFIX)) continue;
    try {
      out.push(decodeOutbound(value));
    } catch {
      /* unreadable: not shown */
    }
  }
  return out;
}

export function outboundView(r: OutboundRecord): PaymentView {
  return {
    id: r.paymentHash,
    direction: 'outbound',
    status: r.status,
    amountMsat: r.amountMsat,
    feeMsat: r.feeMsat,
    description: r.description,
    preimage: r.preimage,
    failureReason: r.failureReason,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export async function saveOutbound(store: Store, record: OutboundRecord): Promise<void> {
  await store.commit([{ key: `${OUTBOUND_PREFIX}${record.paymentHash}`, value: encodeOutbound(record) }]);
}
