// The checked chain view against a lying Esplora (a proxy in front of the devnet's): each lie is
// caught and named, by the checks alone where one source can be caught (proof of work, merkle
// proofs), by the second source where it cannot (a hidden transaction, a tip held back).
import { type Devnet, type LyingEsplora, startDevnet, startLyingEsplora, waitUntil } from '@lpw/devnet-chain';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as btc from '@scure/btc-signer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CheckedChainSource, checkedSource } from './checked.ts';
import { isChainError } from './errors.ts';
import { esploraSource } from './esplora.ts';

const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const key = sha256(new TextEncoder().encode('checked-source-test'));
const spk = btc.p2wpkh(secp256k1.getPublicKey(key, true), REGTEST);

let devnet: Devnet;
let liar: LyingEsplora;
let secondUrl: string;

beforeAll(async () => {
  devnet = await startDevnet({ seed: 'checked-source-test' });
  liar = await startLyingEsplora(devnet.esploraUrl);
  secondUrl = await devnet.startEsplora();
});
afterAll(async () => {
  await liar?.close();
  await devnet?.stop();
});
beforeEach(() => liar.lie({ kind: 'honest' }));

const alone = (): CheckedChainSource =>
  checkedSource({ primary: esploraSource({ url: liar.url }), network: 'regtest' });
const compared = (): CheckedChainSource =>
  checkedSource({
    primary: esploraSource({ url: liar.url }),
    second: esploraSource({ url: secondUrl }),
    network: 'regtest',
    settleMs: 10,
  });

const codeOf = (promise: Promise<unknown>): Promise<string | undefined> =>
  promise.then(
    () => undefined,
    (e: unknown) => (isChainError(e) ? e.code : String(e)),
  );

describe('checked chain view, honest sources', () => {
  it('follows the tip from genesis, proves confirmations, serves held headers', async () => {
    const txid = devnet.fund(spk.address!, 100_000n, { confirmations: 1 });
    for (const source of [alone(), compared()]) {
      const tip = await source.tip();
      expect(tip).toEqual({ hash: devnet.chain.tip().hash, height: devnet.chain.tipHeight });
      const conf = await source.txConfirmation(txid);
      expect(conf?.height).toBe(devnet.chain.tipHeight);
      expect(conf?.blockHash).toBe(devnet.chain.tip().hash);
      expect(await source.txStatus(txid)).toMatchObject({ confirmed: true, height: tip.height });
      expect(await source.blockHash(tip.height)).toBe(tip.hash);
      expect(await source.blockHash(tip.height + 1)).toBeNull();
      expect((await source.header(tip.hash)).length).toBe(80);
      expect(await source.block(tip.hash)).toBeInstanceOf(Uint8Array);
      const history = await source.scriptHistory(Buffer.from(sha256(spk.script)).toString('hex'));
      expect(history.find((t) => t.txid === txid)?.status.confirmed).toBe(true);
    }
  });

  it('follows new blocks and a reorg without a false alarm', async () => {
    const source = compared();
    await source.tip();
    devnet.mine(3);
    expect((await source.tip()).height).toBe(devnet.chain.tipHeight);
    const top = devnet.chain.tip();
    devnet.chain.invalidateBlock(devnet.chain.getBlock(top.height - 1)!.hash);
    devnet.mine(3);
    const tip = await source.tip();
    expect(tip.hash).toBe(devnet.chain.tip().hash);
    expect(await source.blockHash(top.height)).not.toBe(top.hash);
  });

  it('refuses a chain that does not descend from its checkpoint', async () => {
    const source = checkedSource({
      primary: esploraSource({ url: liar.url }),
      network: 'regtest',
      checkpoint: { height: 0, hash: devnet.chain.getBlock(1)!.hash }, // the right hash at the wrong height
    });
    expect(await codeOf(source.tip())).toBe('BROKEN_HEADER_CHAIN');
  });
});

describe('a lying source is caught and named', () => {
  it('(b) a tip header without proof of work: BAD_PROOF_OF_WORK, even alone', async () => {
    const source = alone();
    const before = await source.tip();
    devnet.mine(1);
    liar.lie({ kind: 'bad-pow' });
    expect(await codeOf(source.tip())).toBe('BAD_PROOF_OF_WORK');
    expect(source.checkedTip).toEqual(before); // nothing of the lie was kept
    expect(await codeOf(compared().tip())).toBe('SOURCES_DISAGREE');
    liar.lie({ kind: 'honest' });
    expect((await source.tip()).hash).toBe(devnet.chain.tip().hash);
  });

  it('(c) a forged merkle proof: BAD_MERKLE_PROOF, even alone', async () => {
    const txid = devnet.fund(spk.address!, 50_000n, { confirmations: 1 });
    liar.lie({ kind: 'forge-merkle', txids: [txid] });
    for (const source of [alone(), compared()]) {
      await source.tip();
      expect(await codeOf(source.txConfirmation(txid))).toBe('BAD_MERKLE_PROOF');
      expect(await codeOf(source.txStatus(txid))).toBe('BAD_MERKLE_PROOF');
    }
  });

  it('(a) a hidden confirmed transaction: unseen alone, SOURCES_DISAGREE with a second source', async () => {
    const parent = devnet.fund(spk.address!, 80_000n, { confirmations: 1 });
    const vout = devnet.chain.getTransaction(parent)!.tx.outputs.findIndex((o) => o.value === 80_000n);
    const spend = new btc.Transaction();
    spend.addInput({ txid: parent, index: vout, witnessUtxo: { script: spk.script, amount: 80_000n } });
    spend.addOutput({ script: spk.script, amount: 79_000n });
    spend.sign(key);
    spend.finalize();
    const spender = devnet.chain.submitTransaction(spend.hex);
    devnet.mine(1);
    liar.lie({ kind: 'hide-tx', txids: [spender] });

    const single = alone();
    await single.tip();
    expect(await single.txConfirmation(spender)).toBeNull(); // one source cannot be caught hiding
    expect(await single.outspend(parent, vout)).toEqual({ spent: false });

    const both = compared();
    await both.tip();
    expect(await codeOf(both.txConfirmation(spender))).toBe('SOURCES_DISAGREE');
    expect(await codeOf(both.outspend(parent, vout))).toBe('SOURCES_DISAGREE');
  });

  it('(d) a tip held back: unseen alone, SOURCES_DISAGREE with a second source', async () => {
    const held = devnet.chain.tipHeight;
    devnet.mine(2);
    liar.lie({ kind: 'hold-tip', height: held });
    expect((await alone().tip()).height).toBe(held);
    expect(await codeOf(compared().tip())).toBe('SOURCES_DISAGREE');
  });
});

describe('the header chain kept across starts', () => {
  /** A checked source over the honest devnet that keeps its chain in `kept` and counts header batches. */
  function keeping(kept: { record?: Uint8Array }, opts: { keptHeaders?: number; url?: string } = {}) {
    const primary = esploraSource({ url: opts.url ?? devnet.esploraUrl });
    const batches: number[] = [];
    const counted = new Proxy(primary, {
      get(target, name) {
        if (name === 'headersDown')
          return (height: number) => {
            batches.push(height);
            return target.headersDown(height);
          };
        const value = Reflect.get(target, name);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const source = checkedSource({ primary: counted, network: 'regtest', ...opts });
    source.keepHeaders(kept.record, (record) => {
      kept.record = record;
    });
    return { source, batches };
  }
  const saved = (kept: { record?: Uint8Array }) =>
    waitUntil('the header chain kept', () => kept.record !== undefined, 10_000);

  it('a second start fetches only the new headers and still proves a confirmation below them', async () => {
    const txid = devnet.fund(spk.address!, 40_000n, { confirmations: 1 });
    const kept: { record?: Uint8Array } = {};
    const first = keeping(kept, { keptHeaders: 2 });
    await first.source.tip();
    const conf = await first.source.txConfirmation(txid);
    expect(conf).not.toBeNull();
    await saved(kept);
    expect(first.batches.length).toBeGreaterThan(devnet.chain.tipHeight / 10 - 1); // from genesis

    devnet.mine(3);
    const second = keeping({ record: kept.record! }, { keptHeaders: 2 });
    expect(await second.source.tip()).toEqual({
      hash: devnet.chain.tip().hash,
      height: devnet.chain.tipHeight,
    });
    expect(second.batches).toEqual([devnet.chain.tipHeight]); // one batch of ten covers the three new blocks
    // its block is below the two headers kept: proven before, its header kept with the proof
    expect(await second.source.txConfirmation(txid)).toMatchObject({ blockHash: conf!.blockHash });
    expect((await second.source.header(conf!.blockHash)).length).toBe(80);
  });

  it('a kept record that fails its checks is dropped and the chain fetched again', async () => {
    const kept: { record?: Uint8Array } = {};
    await keeping(kept).source.tip();
    devnet.mine(1);
    await keeping(kept).source.tip(); // saves the new tip
    await saved(kept);
    const tampered = kept.record!.slice();
    tampered[41 + 80 + 76]! ^= 1; // the nonce of the second kept header: its hash misses the target
    const again = keeping({ record: tampered });
    expect((await again.source.tip()).hash).toBe(devnet.chain.tip().hash);
    expect(again.batches.length).toBeGreaterThan(devnet.chain.tipHeight / 10 - 1); // from genesis again
  });

  it('a source behind the kept tip cannot take blocks back', async () => {
    const kept: { record?: Uint8Array } = {};
    devnet.mine(1);
    await keeping(kept).source.tip();
    await saved(kept);
    const checked = devnet.chain.tipHeight;
    liar.lie({ kind: 'hold-tip', height: checked - 2 });
    const restarted = keeping({ record: kept.record! }, { url: liar.url });
    expect((await restarted.source.tip()).height).toBe(checked);
  });

  it('a fork with less work than the chain held: CHAIN_ROLLBACK', async () => {
    const source = alone();
    devnet.mine(2);
    const before = await source.tip();
    devnet.chain.invalidateBlock(devnet.chain.getBlock(before.height - 1)!.hash);
    devnet.mine(1); // one block where there were two
    expect(await codeOf(source.tip())).toBe('CHAIN_ROLLBACK');
    expect(source.checkedTip).toEqual(before);
    devnet.mine(2); // more work than ours: an ordinary reorg, followed
    expect((await source.tip()).hash).toBe(devnet.chain.tip().hash);
  });

  it('a reorg deeper than the kept headers after a restart: CHAIN_ROLLBACK, named', async () => {
    devnet.mine(6);
    const kept: { record?: Uint8Array } = {};
    await keeping(kept, { keptHeaders: 4 }).source.tip();
    await saved(kept);
    const top = devnet.chain.tipHeight;
    devnet.chain.invalidateBlock(devnet.chain.getBlock(top - 5)!.hash);
    devnet.mine(10);
    const restarted = keeping({ record: kept.record! }, { keptHeaders: 4 });
    const error = await restarted.source.tip().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isChainError(error, 'CHAIN_ROLLBACK')).toBe(true);
    expect(String(error)).toMatch(/deeper than the 4 blocks/);
  });
});
