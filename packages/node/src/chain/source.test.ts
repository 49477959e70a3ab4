// Esplora and bitcoind clients against the devnet's real HTTP servers: both must give the same
// answers (tip, headers, tx status and position, outspends, reject strings) and detect the network.

import { type Devnet, startDevnet } from '@lpw/devnet-chain';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import * as btc from '@scure/btc-signer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bitcoindSource } from './bitcoind.ts';
import { headerHash, parseBlock, txidOf } from './bytes.ts';
import { isChainError } from './errors.ts';
import { esploraSource } from './esplora.ts';
import { assertNetwork, type ChainSource } from './source.ts';

const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const key = sha256(new TextEncoder().encode('chain-source-test'));
const spk = btc.p2wpkh(secp256k1.getPublicKey(key, true), REGTEST);

let devnet: Devnet;
let esplora: ChainSource;
let bitcoind: ChainSource;

beforeAll(async () => {
  devnet = await startDevnet({ seed: 'chain-source-test', rpcUser: 'u', rpcPassword: 'p' });
  esplora = esploraSource({ url: devnet.esploraUrl });
  bitcoind = bitcoindSource({ url: devnet.rpcUrl, auth: { user: 'u', password: 'p' } });
});
afterAll(() => devnet?.stop());

/** A signed spend of `txid:vout` (paying to our key) to `to`, `fee` sats. */
function spend(txid: string, vout: number, valueSat: bigint, feeSat: bigint): Uint8Array {
  const tx = new btc.Transaction();
  tx.addInput({
    txid,
    index: vout,
    witnessUtxo: { script: spk.script, amount: valueSat },
    sequence: 0xfffffffd,
  });
  tx.addOutput({ script: spk.script, amount: valueSat - feeSat });
  tx.sign(key);
  tx.finalize();
  return tx.extract();
}

describe('chain sources agree', () => {
  it('on the network, and refuse a wrong one', async () => {
    expect(await esplora.network()).toBe('regtest');
    expect(await bitcoind.network()).toBe('regtest');
    await assertNetwork(esplora, 'regtest');
    for (const source of [esplora, bitcoind]) {
      const err = await assertNetwork(source, 'mainnet').catch((e) => e);
      expect(isChainError(err, 'WRONG_NETWORK')).toBe(true);
    }
  });

  it('on tip, block hashes, headers and raw blocks', async () => {
    devnet.mine(2);
    const [a, b] = await Promise.all([esplora.tip(), bitcoind.tip()]);
    expect(a).toEqual(b);
    expect(await esplora.blockHash(a.height)).toBe(a.hash);
    expect(await bitcoind.blockHash(a.height)).toBe(a.hash);
    expect(await esplora.blockHash(a.height + 1)).toBeNull();
    expect(await bitcoind.blockHash(a.height + 1)).toBeNull();
    const [ha, hb] = await Promise.all([esplora.header(a.hash), bitcoind.header(a.hash)]);
    expect(ha.length).toBe(80);
    expect(hex.encode(ha)).toBe(hex.encode(hb));
    expect(headerHash(ha)).toBe(a.hash);
    const [ba, bb] = await Promise.all([esplora.block(a.hash), bitcoind.block(a.hash)]);
    expect(hex.encode(ba)).toBe(hex.encode(bb));
    expect(parseBlock(ba).txs.length).toBeGreaterThan(0);
  });

  it('on tx status, position, raw tx and outspends', async () => {
    const fundTxid = devnet.fund(spk.address!, 50_000n);
    for (const s of [esplora, bitcoind]) expect(await s.txStatus(fundTxid)).toEqual({ confirmed: false });
    const raw = (await esplora.rawTx(fundTxid))!;
    expect(txidOf(raw)).toBe(fundTxid);
    expect(hex.encode((await bitcoind.rawTx(fundTxid))!)).toBe(hex.encode(raw));

    const [block] = devnet.mine(1);
    const ea = await esplora.txConfirmation(fundTxid);
    const eb = await bitcoind.txConfirmation(fundTxid);
    expect(ea).toEqual(eb);
    expect(ea).toMatchObject({ blockHash: block!.hash, height: block!.height });
    expect(ea!.position).toBeGreaterThan(0); // after the coinbase
    expect(hex.encode(parseBlock(await esplora.block(ea!.blockHash)).txs[ea!.position]!)).toBe(
      hex.encode(raw),
    );

    const tx = btc.Transaction.fromRaw(raw);
    let vout = 0;
    while (hex.encode(tx.getOutput(vout).script!) !== hex.encode(spk.script)) vout++;
    for (const s of [esplora, bitcoind]) expect(await s.outspend(fundTxid, vout)).toEqual({ spent: false });

    const spender = spend(fundTxid, vout, 50_000n, 500n);
    const spenderTxid = await esplora.broadcast(spender);
    expect(spenderTxid).toBe(txidOf(spender));
    for (const s of [esplora, bitcoind])
      expect(await s.outspend(fundTxid, vout)).toEqual({
        spent: true,
        txid: spenderTxid,
        vin: 0,
        status: { confirmed: false },
      });
    const [b2] = devnet.mine(1);
    const confirmed = {
      spent: true,
      txid: spenderTxid,
      vin: 0,
      status: { confirmed: true, blockHash: b2!.hash, height: b2!.height },
    };
    expect(await esplora.outspend(fundTxid, vout)).toEqual(confirmed);
    expect(await bitcoind.outspend(fundTxid, vout)).toEqual(confirmed);
    expect(await esplora.txStatus('00'.repeat(32))).toBeNull();
    expect(await bitcoind.txStatus('00'.repeat(32))).toBeNull();
  });

  it('on broadcast rejects, with the same reject string', async () => {
    const fundTxid = devnet.fund(spk.address!, 20_000n, { confirmations: 1 });
    const raw = (await esplora.rawTx(fundTxid))!;
    const tx = btc.Transaction.fromRaw(raw);
    let vout = 0;
    while (hex.encode(tx.getOutput(vout).script!) !== hex.encode(spk.script)) vout++;
    // pays 50 sats for ~110 vB: below the 1 sat/vB relay floor
    const cheap = spend(fundTxid, vout, 20_000n, 50n);
    // spends an output that does not exist
    const missing = spend('11'.repeat(32), 0, 20_000n, 500n);
    for (const bad of [cheap, missing]) {
      const reasons: (string | undefined)[] = [];
      for (const s of [esplora, bitcoind]) {
        const err = await s.broadcast(bad).catch((e) => e);
        expect(isChainError(err, 'REJECTED')).toBe(true);
        reasons.push(err.rejectReason);
      }
      expect(reasons[0]).toBeTruthy();
      expect(reasons[0]).toBe(reasons[1]);
    }
    const err = await esplora.broadcast(cheap).catch((e) => e);
    expect(err.rejectReason).toMatch(/min relay fee not met/);
  });

  it('on fee estimates, in sat/kW', async () => {
    const [a, b] = await Promise.all([esplora.feeRates(), bitcoind.feeRates()]);
    expect(a.size).toBeGreaterThan(0);
    expect(b.size).toBeGreaterThan(0);
    expect(a.get(6)).toBe(b.get(6));
    expect(a.get(6)).toBeGreaterThanOrEqual(250);
  });

  it('report an unreachable source and bad credentials with typed errors', async () => {
    const down = esploraSource({ url: 'http://127.0.0.1:1', timeoutMs: 2000 });
    expect(isChainError(await down.tip().catch((e) => e), 'UNREACHABLE')).toBe(true);
    const wrongAuth = bitcoindSource({ url: devnet.rpcUrl, auth: { user: 'u', password: 'nope' } });
    expect(isChainError(await wrongAuth.tip().catch((e) => e), 'UNAUTHORIZED')).toBe(true);
  });
});
