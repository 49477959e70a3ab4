// Payment history, durable in the Store (`payment/<id>` JSON, bigints as decimal strings). Records
// are written through the CommitQueue, so a record lands in the same or an earlier commit than the
// channel state it describes. Updates are idempotent: LDK replays events after a restart.
import type { CommitQueue } from './persist/commit-queue.ts';
import { PAYMENT_PREFIX } from './persist/keys.ts';

export type PaymentDirection = 'inbound' | 'outbound';
export type PaymentStatus = 'pending' | 'succeeded' | 'failed';
export type PaymentKind = 'bolt11' | 'bolt12' | 'keysend' | 'inbound-payment';

export interface PaymentRecord {
  /**
   * Outbound: the LDK payment id (for BOLT 11 the payment hash). Inbound: the payment hash.
   * An outbound BOLT 12 payment learns its hash from the invoice: '' until then.
   */
  id: string;
  direction: PaymentDirection;
  kind: PaymentKind;
  status: PaymentStatus;
  paymentHash: string;
  preimage?: string;
  /** Amount the recipient gets (inbound: what we received). */
  amountMsat?: bigint;
  /** Routing fees paid (outbound). */
  feeMsat?: bigint;
  /** Inbound: the most an LSP may skim from this payment (JIT opening fee); 0 by default. */
  maxSkimmedFeeMsat?: bigint;
  skimmedFeeMsat?: bigint;
  invoice?: string;
  description?: string;
  failureReason?: string;
  createdAt: number;
  updatedAt: number;
}

const BIGINT_FIELDS = ['amountMsat', 'feeMsat', 'maxSkimmedFeeMsat', 'skimmedFeeMsat'] as const;

function encode(record: PaymentRecord): Uint8Array {
  const plain: Record<string, unknown> = { ...record };
  for (const f of BIGINT_FIELDS) if (record[f] !== undefined) plain[f] = record[f].toString();
  return new TextEncoder().encode(JSON.stringify(plain));
}

function decode(bytes: Uint8Array): PaymentRecord {
  const plain = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  for (const f of BIGINT_FIELDS) if (typeof plain[f] === 'string') plain[f] = BigInt(plain[f] as string);
  return plain as unknown as PaymentRecord;
}

/**
 * The payment records in a store's contents, read without a running node (a wallet shows its
 * history before its node starts); an unreadable record is left out (the node reports it at start).
 */
export function paymentRecordsOf(data: Map<string, Uint8Array>): PaymentRecord[] {
  const records: PaymentRecord[] = [];
  for (const [key, value] of data) {
    if (!key.startsWith(PAYMENT_PREFIX)) continue;
    try {
      records.push(decode(value));
    } catch {
      /* left out */
    }
  }
  return records.sort((a, b) => a.createdAt - b.createdAt);
}

export class PaymentStore {
  private readonly records = new Map<string, PaymentRecord>();
  private readonly queue: CommitQueue;
  private readonly now: () => number;

  constructor(initial: Map<string, Uint8Array>, queue: CommitQueue, now: () => number) {
    this.queue = queue;
    this.now = now;
    for (const [key, value] of initial) {
      if (key.startsWith(PAYMENT_PREFIX)) {
        const record = decode(value);
        this.records.set(key.slice(PAYMENT_PREFIX.length), record);
      }
    }
  }

  get(id: string): PaymentRecord | undefined {
    const r = this.records.get(id);
    return r ? { ...r } : undefined;
  }

  list(): PaymentRecord[] {
    return [...this.records.values()].map((r) => ({ ...r })).sort((a, b) => a.createdAt - b.createdAt);
  }

  create(record: Omit<PaymentRecord, 'createdAt' | 'updatedAt'>): PaymentRecord {
    const now = this.now();
    const full: PaymentRecord = { ...record, createdAt: now, updatedAt: now };
    this.save(full);
    return full;
  }

  /** Merges `changes` into an existing record; a succeeded payment never goes back to another status. */
  update(id: string, changes: Partial<PaymentRecord>): PaymentRecord | undefined {
    const current = this.records.get(id);
    if (!current) return undefined;
    if (current.status === 'succeeded' && changes.status && changes.status !== 'succeeded') return current;
    const next: PaymentRecord = { ...current, ...changes, id, updatedAt: this.now() };
    this.save(next);
    return next;
  }

  private save(record: PaymentRecord): void {
    this.records.set(record.id, record);
    this.queue.write(PAYMENT_PREFIX + record.id, encode(record));
  }
}
