import { MemoryStore } from '@lpw/node';
import { describe, expect, it } from 'vitest';
import {
  decodeOutbound,
  encodeOutbound,
  type OutboundRecord,
  outboundFrom,
  saveOutbound,
} from './outbound.ts';

const record: OutboundRecord = {
  paymentHash: 'ab'.repeat(32),
  status: 'succeeded',
  amountMsat: 18_446_744_073_709_551_615n,
  feeMsat: 1_001n,
  description: '12n',
  preimage: 'cd'.repeat(32),
  failureReason: undefined,
  createdAt: 1,
  updatedAt: 2,
};

describe('outbound records', () => {
  it('keep bigint msat exactly and leave other strings alone', () => {
    expect(decodeOutbound(encodeOutbound(record))).toEqual(record);
  });
  it('are read back from the store they were committed to', async () => {
    const store = new MemoryStore();
    await saveOutbound(store, record);
    expect(outboundFrom(await store.load())).toEqual([record]);
  });
});
