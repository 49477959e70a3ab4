// The stream engine on real LDK nodes (the devnet's router streams keysends to the merchant over
// their channel), on the Store ledger the wallet PWA runs: exact accounting on both ends; a halt (a
// lock or reload) keeps the stream for the next start, which resumes it without paying a period
// twice; `onRestart: 'stop'` ends it instead; while no payment can leave nothing is reserved; a
// short route outage is waited out, a long one fails the stream with its reason; a burst beyond
// what the channel takes in flight waits for room.
import { type Devnet, startDevnet, waitUntil } from '@lpw/devnet';
import { type PublicNetwork, startPublicNetwork } from '@lpw/devnet/network';
import { MemoryStore } from '@lpw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamEngine, type StreamRequest } from '../src/engine.ts';
import { periodSecrets } from '../src/keysend.ts';
import { periodCount } from '../src/periods.ts';
import { StoreStreamLedger } from '../src/store-ledger.ts';
import { directRoute } from './direct-route.ts';

let devnet: Devnet;
let net: PublicNetwork;
const received: Array<{ paymentHash: string; amountMsat: bigint }> = [];
const streamKey = new Uint8Array(32).fill(9);

beforeAll(async () => {
  devnet = await startDevnet({ seed: 'stream-engine-test' });
  net = await startPublicNetwork(devnet);
  net.merchant.node.on('payment-received', (e) =>
    received.push({ paymentHash: e.paymentHash, amountMsat: e.amountMsat }),
  );
}, 120_000);

afterAll(async () => {
  await net?.stop();
  await devnet?.stop();
});

function engineOn(
  store: MemoryStore,
  ledger: StoreStreamLedger,
  extra: Partial<ConstructorParameters<typeof StreamEngine>[0]> = {},
) {
  const engine = new StreamEngine({
    ledger,
    node: net.router.node,
    findRoute: directRoute,
    streamKey,
    log: () => {},
    ...extra,
  });
  const off = engine.listen();
  return { engine, off, store };
}

const request = (seconds: number, onRestart: 'resume' | 'stop' = 'resume'): StreamRequest => ({
  to: net.merchant.nodeId,
  satsPerMinute: 600n, // 1 sat per 100 ms period
  periodMs: 100,
  budgetMsat: 1_000_000n,
  untilMs: Date.now() + seconds * 1000,
  onRestart,
});

const since = (mark: number) => received.slice(mark);
const sum = (rs: Array<{ amountMsat: bigint }>) => rs.reduce((s, r) => s + r.amountMsat, 0n);

describe('StreamEngine on LDK', () => {
  it('halted mid-stream, resumed by a new engine on the same store: every period paid at most once, exact totals', async () => {
    const mark = received.length;
    const store = new MemoryStore({ delayMs: 1 });
    const first = engineOn(store, await StoreStreamLedger.open(store));
    const handle = await first.engine.start(request(4));
    await waitUntil('10 payments at the merchant', () => since(mark).length >= 10, 60_000, 20);
    await first.engine.close('reload', 'halt');
    first.off();
    expect((await handle.done).state).toBe('running'); // kept for the next start

    const ledger = await StoreStreamLedger.open(new MemoryStore({ initial: store.data, delayMs: 1 }));
    // a crash between the reservation and the keysend: the period is reserved, LDK never saw it
    const halted = ledger.get(handle.id);
    const lost = periodSecrets(streamKey, halted.id, halted.nextPeriod, 0);
    await ledger.reserve({
      streamId: halted.id,
      period: halted.nextPeriod,
      attempt: 0,
      paymentId: lost.paymentId,
      paymentHash: lost.paymentHash,
      amountMsat: 1000n,
      plannedFeeMsat: 0n,
      maxFeeMsat: halted.maxFeeMsat,
    });
    const second = engineOn(store, ledger);
    await second.engine.reconcile();
    expect(ledger.openPeriods()).toMatchObject([{ period: halted.nextPeriod, state: 'failed' }]);
    const [resumed] = await second.engine.resumeAll();
    const done = await resumed!.done;
    second.off();
    const got = since(mark);
    // the lost period was retried under its next attempt's id and paid once
    expect(done).toMatchObject({ state: 'finished', stopReason: 'end time reached', failedAttempts: 1 });
    expect(got.some((r) => r.paymentHash === lost.paymentHash)).toBe(false);
    expect(
      got.some(
        (r) => r.paymentHash === periodSecrets(streamKey, halted.id, halted.nextPeriod, 1).paymentHash,
      ),
    ).toBe(true);
    expect(got.length).toBe(done.paidCount);
    expect(new Set(got.map((r) => r.paymentHash)).size).toBe(got.length);
    expect(sum(got)).toBe(done.paidMsat);
    expect(done.paidMsat).toBe(BigInt(done.paidCount) * 1000n);
    expect(done.paidCount + done.skippedPeriods).toBe(periodCount(done));
    expect(ledger.openPeriods()).toEqual([]);
  });

  it('a stream set to stop on restart is stopped by the next start, its payments in flight resolved', async () => {
    const mark = received.length;
    const store = new MemoryStore();
    const first = engineOn(store, await StoreStreamLedger.open(store));
    await first.engine.start(request(30, 'stop'));
    await waitUntil('5 payments at the merchant', () => since(mark).length >= 5, 60_000, 20);
    await first.engine.close('reload', 'halt');
    first.off();
    const second = engineOn(store, await StoreStreamLedger.open(new MemoryStore({ initial: store.data })));
    await second.engine.reconcile();
    const [stopped] = await second.engine.resumeAll();
    const done = await stopped!.done;
    second.off();
    expect(done).toMatchObject({
      state: 'stopped',
      stopReason: 'stopped after a restart (on-restart: stop)',
    });
    expect(since(mark).length).toBe(done.paidCount);
  });

  it('while no payment can leave, nothing is reserved; paying goes on when it can', async () => {
    const mark = received.length;
    let open = false;
    const store = new MemoryStore();
    const ledger = await StoreStreamLedger.open(store);
    const { engine, off } = engineOn(store, ledger, { canSend: () => open });
    const handle = await engine.start(request(3));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(ledger.openPeriods()).toEqual([]);
    expect(since(mark)).toEqual([]);
    open = true;
    const done = await handle.done;
    off();
    expect(done.state).toBe('finished');
    expect(done.paidCount).toBeGreaterThan(5);
    expect(since(mark).length).toBe(done.paidCount);
    expect(done.paidCount + done.skippedPeriods).toBe(periodCount(done));
  });

  it('a burst of lagging periods waits for room in the channel instead of being refused by LDK', async () => {
    const mark = received.length;
    let open = false;
    const store = new MemoryStore();
    const ledger = await StoreStreamLedger.open(store);
    const { engine, off } = engineOn(store, ledger, { canSend: () => open });
    // 1 sat every 10 ms; a second of lag is 100 periods at once, twice what the merchant's side of
    // the channel accepts in flight (LDK's default max_accepted_htlcs, 50)
    const handle = await engine.start(
      { ...request(2), satsPerMinute: 6_000n, periodMs: 10, budgetMsat: 10_000_000n },
      { maxInFlight: 200 },
    );
    await new Promise((r) => setTimeout(r, 1_000));
    open = true;
    const done = await handle.done;
    off();
    expect(done).toMatchObject({ state: 'finished', failedAttempts: 0 });
    expect(done.paidCount).toBeGreaterThan(100);
    expect(since(mark).length).toBe(done.paidCount);
    expect(done.paidCount + done.skippedPeriods).toBe(periodCount(done));
    expect(ledger.openPeriods()).toEqual([]);
  });

  it('a short route outage is waited out; a long one fails the stream with the reason', async () => {
    let failUntil = Date.now() + 1_000;
    const flaky = async (payee: string, max: bigint) => {
      if (Date.now() < failUntil) throw new Error('LSP unreachable');
      return directRoute(payee, max);
    };
    const store = new MemoryStore();
    const { engine, off } = engineOn(store, await StoreStreamLedger.open(store), { findRoute: flaky });
    const short = await (await engine.start(request(3))).done;
    expect(short.state).toBe('finished');
    expect(short.paidCount).toBeGreaterThan(5);
    failUntil = Number.POSITIVE_INFINITY;
    const long = await (await engine.start(request(10), { routeOutageMs: 1_000 })).done;
    off();
    expect(long).toMatchObject({ state: 'failed', stopReason: 'LSP unreachable', paidCount: 0 });
  });
});
