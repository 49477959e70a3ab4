// Fee weather over HTTP: Esplora's /fee-estimates (target → sat/vB) and bitcoind's estimatesmartfee
// (BTC/kvB) and getmempoolinfo follow a scripted market block by block; a mempool under load
// refuses and holds transactions below its minimum fee as Core does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, DevnetError, MARKET, startDevnet } from './index.ts';
import { signSpend, testKey, type Utxo } from './testkit.ts';

let devnet: Devnet;
const alice = testKey('fee-weather-alice');
const bob = testKey('fee-weather-bob');
const ESPLORA_TARGETS = [...Array.from({ length: 25 }, (_, i) => String(i + 1)), '144', '504', '1008'];

async function estimates(url = devnet.esploraUrl): Promise<Record<string, number>> {
  const res = await fetch(`${url}/fee-estimates`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, number>;
}
async function rpc(method: string, ...params: unknown[]) {
  const res = await fetch(devnet.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
  return body;
}
function fundedCoin(value: bigint): Utxo {
  const txid = devnet.fund(alice.address, value, { confirmations: 1 });
  const tx = devnet.chain.getTransaction(txid)!.tx;
  const vout = tx.outputs.findIndex((o) => o.value === value);
  return { txid, vout, value, script: tx.outputs[vout]!.script };
}

beforeAll(async () => {
  devnet = await startDevnet({ seed: 'fee-weather', feeRate: 2 });
});
afterAll(() => devnet.stop());

describe('fee weather', () => {
  it('Esplora answers every target Esplora documents, as numbers in sat/vB', async () => {
    const answer = await estimates();
    expect(Object.keys(answer).sort()).toEqual([...ESPLORA_TARGETS].sort());
    for (const v of Object.values(answer)) expect(v).toBe(2);
    expect(await rpc('estimatesmartfee', 6)).toMatchObject({ result: { feerate: 0.00002, blocks: 6 } });
  });

  it('a ×10 then ×100 spike lands with the next block, and a crash goes back to fair weather', async () => {
    const weather = devnet.chain.weather;
    weather.spike(10);
    expect((await estimates())['1']).toBe(2); // nothing changes before the block
    devnet.mine(1);
    expect((await estimates())['1']).toBe(20);
    expect(await rpc('estimatesmartfee', 1)).toMatchObject({ result: { feerate: 0.0002, blocks: 1 } });
    weather.spike(10);
    devnet.mine(1);
    expect((await estimates())['144']).toBe(200);
    expect(await rpc('estimatesmartfee', 144)).toMatchObject({ result: { feerate: 0.002 } });
    weather.crash();
    devnet.mine(1);
    expect((await estimates())['1']).toBe(2);
  });

  it('a slow climb rises every block to its factor', async () => {
    devnet.chain.weather.climb(10, 5);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      devnet.mine(1);
      seen.push((await estimates())['6']!);
    }
    expect(seen.slice(0, 5)).toEqual([...seen.slice(0, 5)].sort((a, b) => a - b));
    expect(seen[0]).toBeGreaterThan(2);
    expect(seen[4]).toBe(20);
    expect(seen[5]).toBe(20);
    devnet.chain.weather.crash();
    devnet.mine(1);
  });

  it('a second Esplora disagrees by its factor and follows the same market', async () => {
    const url = await devnet.startEsplora({ weather: devnet.chain.weather.scaled(10) });
    expect((await estimates(url))['12']).toBe(20);
    devnet.chain.weather.spike(10);
    devnet.mine(1);
    expect((await estimates(url))['12']).toBe(200);
    expect((await estimates())['12']).toBe(20);
    expect(() => devnet.chain.weather.scaled(10).spike(2)).toThrow(DevnetError);
    const view = devnet.chain.weather.scaled(1);
    view.rescale(0.1);
    expect(view.estimate(12)).toBe(2);
    devnet.chain.weather.crash();
    devnet.mine(1);
  });

  it('a market shape makes slower targets cheaper', async () => {
    const view = devnet.chain.weather.scaled(1, MARKET);
    const url = await devnet.startEsplora({ weather: view });
    const answer = await estimates(url);
    expect(answer['1']).toBe(2);
    expect(answer['144']).toBe(1);
    expect(answer['1008']).toBe(1); // 0.5 would be under the relay floor: clamped like Core
  });

  it('rejects bad scripts with a typed error', () => {
    expect(() => devnet.chain.weather.spike(0)).toThrow(DevnetError);
    expect(() => devnet.chain.weather.climb(2, 0)).toThrow(DevnetError);
    expect(() => {
      devnet.chain.mempoolMinFeeRate = -1;
    }).toThrow(DevnetError);
  });
});

describe("devnet_feeweather (the CLI's `devnet fees`)", () => {
  it('scripts a running devnet over JSON-RPC and says what it did', async () => {
    expect((await rpc('devnet_feeweather')).result).toEqual({
      satPerVb: 2,
      nextBlockSatPerVb: 2,
      mempoolMinFeeSatPerVb: 1,
    });
    expect((await rpc('devnet_feeweather', 'spike', 100)).result).toMatchObject({
      satPerVb: 2,
      nextBlockSatPerVb: 200,
    });
    expect((await rpc('devnet_feeweather', 'crash')).result).toMatchObject({ nextBlockSatPerVb: 2 });
    expect((await rpc('devnet_feeweather', 'mempoolminfee', 5)).result).toMatchObject({
      mempoolMinFeeSatPerVb: 5,
    });
    expect((await rpc('devnet_feeweather', 'mempoolminfee', 1)).result).toMatchObject({
      mempoolMinFeeSatPerVb: 1,
    });
    expect((await rpc('devnet_feeweather', 'spike', 'x')).error).toEqual({
      code: -8,
      message: 'parameter 2 must be a number',
    });
    expect((await rpc('devnet_feeweather', 'spike', -1)).error?.code).toBe(-8);
    expect((await rpc('devnet_feeweather', 'storm')).error?.message).toMatch(
      /^unknown fee weather action "storm"/,
    );
  });
});

describe('mempool under load', () => {
  it('getmempoolinfo has Core fields; mempoolminfee follows the load and clamps estimates', async () => {
    const quiet = (await rpc('getmempoolinfo')).result as Record<string, unknown>;
    expect(Object.keys(quiet).sort()).toEqual(
      [
        'bytes',
        'fullrbf',
        'incrementalrelayfee',
        'loaded',
        'maxmempool',
        'mempoolminfee',
        'minrelaytxfee',
        'size',
        'total_fee',
        'unbroadcastcount',
        'usage',
      ].sort(),
    );
    expect(quiet).toMatchObject({ loaded: true, mempoolminfee: 0.00001, minrelaytxfee: 0.00001 });
    devnet.chain.mempoolMinFeeRate = 25;
    expect((await rpc('getmempoolinfo')).result).toMatchObject({ mempoolminfee: 0.00025 });
    expect(await rpc('estimatesmartfee', 6)).toMatchObject({ result: { feerate: 0.00025 } });
    expect((await estimates())['6']).toBe(25);
    devnet.chain.mempoolMinFeeRate = 1;
  });

  it('refuses below the minimum with Core’s reason, holds what is already in, mines it when a child pays or load eases', async () => {
    const held = fundedCoin(100_000n);
    const other = fundedCoin(100_000n);
    // ~110 vB each: 1,000 sat fee ≈ 9 sat/vB
    const lowTxid = devnet.chain.submitTransaction(
      signSpend(alice, [held], [{ script: alice.script, value: 99_000n }]),
    );
    devnet.chain.mempoolMinFeeRate = 20;

    const low = signSpend(alice, [other], [{ script: bob.script, value: 99_000n }]);
    const refused = await rpc('sendrawtransaction', low);
    expect(refused.error?.code).toBe(-26);
    expect(refused.error?.message).toMatch(/^mempool min fee not met, 1000 < \d+$/);
    expect(await rpc('testmempoolaccept', [low])).toMatchObject({
      result: [{ allowed: false, 'reject-reason': 'mempool min fee not met' }],
    });
    const high = signSpend(alice, [other], [{ script: bob.script, value: 90_000n }]);
    const highTxid = (await rpc('sendrawtransaction', high)).result as string;

    devnet.mine(1);
    expect(devnet.chain.getTransaction(highTxid)?.location).toBeDefined();
    expect(devnet.chain.getTransaction(lowTxid)?.location).toBeUndefined(); // held

    // a child paying for both lifts the package over the minimum (CPFP)
    const parentOut = { txid: lowTxid, vout: 0, value: 99_000n, script: alice.script };
    const childTxid = devnet.chain.submitTransaction(
      signSpend(alice, [parentOut], [{ script: bob.script, value: 94_000n }]),
    );
    devnet.mine(1);
    expect(devnet.chain.getTransaction(lowTxid)?.location).toBeDefined();
    expect(devnet.chain.getTransaction(childTxid)?.location).toBeDefined();

    const lastHeld = fundedCoin(100_000n);
    devnet.chain.mempoolMinFeeRate = 1;
    const waitTxid = devnet.chain.submitTransaction(
      signSpend(alice, [lastHeld], [{ script: alice.script, value: 99_000n }]),
    );
    devnet.chain.mempoolMinFeeRate = 20;
    devnet.mine(1);
    expect(devnet.chain.getTransaction(waitTxid)?.location).toBeUndefined();
    devnet.chain.mempoolMinFeeRate = 1;
    devnet.mine(1);
    expect(devnet.chain.getTransaction(waitTxid)?.location).toBeDefined();
  });
});
