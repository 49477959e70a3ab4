// The Store ledger (what the wallet PWA runs on IndexedDB) against the ledger rules, on an
// asynchronous store whose commits resolve later; and a failed commit changes nothing.
import { MemoryStore } from '@lpw/node';
import { describe, expect, it } from 'vitest';
import { describeStreamLedger } from './ledger-conformance.ts';
import { StoreStreamLedger } from './store-ledger.ts';

describeStreamLedger('StoreStreamLedger', async () => {
  const store = new MemoryStore({ delayMs: 2 });
  return {
    ledger: await StoreStreamLedger.open(store),
    reopen: () => StoreStreamLedger.open(new MemoryStore({ initial: store.data })),
    close: () => store.close(),
  };
});

describe('StoreStreamLedger writes', () => {
  it('a reservation whose commit fails is neither in memory nor in the store', async () => {
    const store = new MemoryStore(); // synchronous: an injected failure throws from commit itself
    const ledger = await StoreStreamLedger.open(store);
    const s = await ledger.create({
      payee: `03${'22'.repeat(32)}`,
      satsPerMinute: 60n,
      periodMs: 1000,
      budgetMsat: 100_000n,
      maxFeeMsat: 1000n,
      startMs: 0,
      endMs: 60_000,
      onRestart: 'stop',
    });
    store.failNext = 1;
    const reservation = {
      streamId: s.id,
      period: 0,
      attempt: 0,
      paymentId: 'aa'.repeat(32),
      paymentHash: 'bb'.repeat(32),
      amountMsat: 1000n,
      plannedFeeMsat: 0n,
      maxFeeMsat: 1000n,
    };
    await expect(ledger.reserve(reservation)).rejects.toThrow();
    expect(ledger.openPeriods()).toEqual([]);
    expect(ledger.get(s.id).nextPeriod).toBe(0);
    expect((await StoreStreamLedger.open(new MemoryStore({ initial: store.data }))).openPeriods()).toEqual(
      [],
    );
    // the queue goes on after a failure
    expect(await ledger.reserve(reservation)).toBe('reserved');
  });
});
