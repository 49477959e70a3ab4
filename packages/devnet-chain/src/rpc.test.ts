// The bitcoind JSON-RPC subset over HTTP with fetch: result shapes, error codes, auth, 1.0 and 2.0.
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from './index.ts';
import { signSpend, testKey } from './testkit.ts';

let devnet: Devnet;
const alice = testKey('alice');
const bob = testKey('bob');
const auth = `Basic ${Buffer.from('user:pass').toString('base64')}`;

async function rpcRaw(body: unknown, authorization = auth) {
  const res = await fetch(devnet.rpcUrl, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: res.status === 401 ? undefined : await res.json() };
}
async function rpc(method: string, ...params: unknown[]) {
  const { body } = await rpcRaw({ jsonrpc: '1.0', id: 'test', method, params });
  if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code });
  return body.result;
}
async function rpcError(method: string, ...params: unknown[]) {
  const { body } = await rpcRaw({ jsonrpc: '2.0', id: 7, method, params });
  expect(body.result).toBeUndefined();
  return body.error as { code: number; message: string };
}

beforeAll(async () => {
  devnet = await startDevnet({ rpcUser: 'user', rpcPassword: 'pass' });
});
afterAll(() => devnet.stop());

describe('bitcoind RPC protocol', () => {
  it('requires basic auth, answers 1.0 with {result,error,id}, 2.0 without error, batches and unknown methods', async () => {
    expect((await rpcRaw({ method: 'getblockcount' }, 'Basic nope')).status).toBe(401);
    expect(await rpcRaw({ jsonrpc: '1.0', id: 1, method: 'getblockcount', params: [] })).toEqual({
      status: 200,
      body: { result: 101, error: null, id: 1 },
    });
    expect((await rpcRaw({ jsonrpc: '2.0', id: 2, method: 'getblockcount' })).body).toEqual({
      jsonrpc: '2.0',
      result: 101,
      id: 2,
    });
    const batch = await rpcRaw([
      { id: 1, method: 'getblockcount' },
      { id: 2, method: 'getbestblockhash' },
    ]);
    expect(batch.body.map((r: { result: unknown }) => r.result)).toEqual([101, devnet.chain.tip().hash]);
    const missing = await rpcRaw({ jsonrpc: '1.0', id: 3, method: 'nosuchmethod', params: [] });
    expect(missing).toEqual({
      status: 404,
      body: { result: null, error: { code: -32601, message: 'Method not found' }, id: 3 },
    });
  });
});

describe('bitcoind RPC chain methods', () => {
  it('getblockchaininfo, getblockhash, getblockheader and getblock', async () => {
    const tip = devnet.chain.tip();
    const info = await rpc('getblockchaininfo');
    expect(info).toMatchObject({
      chain: 'regtest',
      blocks: 101,
      headers: 101,
      bestblockhash: tip.hash,
      initialblockdownload: false,
    });
    expect(info.chainwork).toBe((2 * 102).toString(16).padStart(64, '0'));
    expect(await rpc('getblockhash', 100)).toBe(tip.prevHash);
    expect(await rpcError('getblockhash', 500)).toEqual({ code: -8, message: 'Block height out of range' });
    const header = await rpc('getblockheader', tip.hash);
    expect(header).toMatchObject({
      hash: tip.hash,
      confirmations: 1,
      height: 101,
      bits: '207fffff',
      merkleroot: tip.merkleRoot,
      nTx: 1,
      previousblockhash: tip.prevHash,
    });
    expect(header.nextblockhash).toBeUndefined();
    const rawHeader = await rpc('getblockheader', tip.hash, false);
    expect(hex.encode(sha256(sha256(hex.decode(rawHeader))).reverse())).toBe(tip.hash);
    expect((await rpc('getblock', tip.hash)).tx).toEqual([tip.txs[0]!.txid]);
    const verbose = await rpc('getblock', tip.hash, 2);
    expect(verbose.tx[0]).toMatchObject({
      txid: tip.txs[0]!.txid,
      hash: tip.txs[0]!.wtxid,
      vin: [{ sequence: 0xffffffff }],
    });
    expect(verbose.tx[0].vin[0].coinbase).toMatch(/^0165/);
    const block0 = await rpc('getblock', tip.hash, 0);
    expect(block0.startsWith(rawHeader)).toBe(true);
    expect(await rpcError('getblock', '00'.repeat(32))).toEqual({ code: -5, message: 'Block not found' });
    expect((await rpcError('getblockheader', 'xyz')).code).toBe(-8);
  });

  it('sendrawtransaction, testmempoolaccept, getrawmempool, getrawtransaction, gettxout', async () => {
    const fundTxid = devnet.fund(alice.address, 200_000n, { confirmations: 1 });
    const vout = devnet.chain.getTransaction(fundTxid)!.tx.outputs.findIndex((o) => o.value === 200_000n);
    const coin = { txid: fundTxid, vout, value: 200_000n, script: alice.script };
    const spend = signSpend(alice, [coin], [{ script: bob.script, value: 199_000n }]);
    const [accepted] = await rpc('testmempoolaccept', [spend]);
    expect(accepted).toMatchObject({ allowed: true, vsize: expect.any(Number), fees: { base: 0.00001 } });
    const txid = await rpc('sendrawtransaction', spend);
    expect(txid).toBe(accepted.txid);
    expect(await rpc('getrawmempool')).toEqual([txid]);
    const entry = (await rpc('getrawmempool', true))[txid];
    expect(entry).toMatchObject({
      vsize: accepted.vsize,
      fees: { base: 0.00001 },
      'bip125-replaceable': true,
      depends: [],
    });

    const conflict = signSpend(alice, [coin], [{ script: alice.script, value: 199_500n }]);
    const [refused] = await rpc('testmempoolaccept', [conflict]);
    expect(refused).toMatchObject({ allowed: false, 'reject-reason': 'insufficient fee' });
    const err = await rpcError('sendrawtransaction', conflict);
    expect(err.code).toBe(-26);
    expect(err.message).toMatch(/^insufficient fee, rejecting replacement/);
    expect(await rpcError('sendrawtransaction', 'zz')).toEqual({
      code: -22,
      message: 'TX decode failed. Make sure the tx has at least one input.',
    });

    expect(await rpc('getrawtransaction', txid)).toBe(spend);
    const decoded = await rpc('getrawtransaction', txid, true);
    expect(decoded).toMatchObject({
      txid,
      hex: spend,
      version: 2,
      vout: [
        {
          value: 0.00199,
          n: 0,
          scriptPubKey: {
            type: 'witness_v0_keyhash',
            address: bob.address,
            hex: hex.encode(bob.script),
            asm: `0 ${hex.encode(bob.script.subarray(2))}`,
          },
        },
      ],
    });
    expect(decoded.vin[0]).toMatchObject({
      txid: fundTxid,
      vout,
      scriptSig: { asm: '', hex: '' },
      sequence: 0xfffffffd,
    });
    expect(decoded.vin[0].txinwitness).toHaveLength(2);
    expect(decoded.blockhash).toBeUndefined();

    // Spent in the mempool: gettxout hides it unless include_mempool=false.
    expect(await rpc('gettxout', fundTxid, vout)).toBeNull();
    expect(await rpc('gettxout', fundTxid, vout, false)).toMatchObject({
      value: 0.002,
      confirmations: 1,
      coinbase: false,
    });
    expect(await rpc('gettxout', txid, 0)).toMatchObject({ value: 0.00199, confirmations: 0 });

    const [hash] = await rpc('generatetoaddress', 1, bob.address);
    expect(await rpc('getrawmempool')).toEqual([]);
    const confirmed = await rpc('getrawtransaction', txid, 1, hash);
    expect(confirmed).toMatchObject({ blockhash: hash, confirmations: 1, in_active_chain: true });
    const withPrevouts = await rpc('getrawtransaction', txid, 2);
    expect(withPrevouts.fee).toBe(0.00001);
    expect(withPrevouts.vin[0].prevout).toMatchObject({
      generated: false,
      height: devnet.chain.getTransaction(fundTxid)!.location!.height,
      value: 0.002,
    });
    expect((await rpc('getblock', hash, 2)).tx[1].fee).toBe(0.00001);
    expect(await rpcError('getrawtransaction', '22'.repeat(32))).toEqual({
      code: -5,
      message: 'No such mempool or blockchain transaction. Use gettransaction for wallet transactions.',
    });
    const coinbaseOut = await rpc('gettxout', devnet.chain.tip().txs[0]!.txid, 0);
    expect(coinbaseOut).toMatchObject({ coinbase: true, scriptPubKey: { address: bob.address } });
  });

  it("testmempoolaccept refuses with Core's reasons (mempool_accept.py), sendrawtransaction with its own words", async () => {
    const carol = testKey('carol');
    const reasonOf = async (raw: string) => {
      const [result] = await rpc('testmempoolaccept', [raw]);
      expect(Object.keys(result).sort()).toEqual(['allowed', 'reject-reason', 'txid', 'wtxid']);
      expect(result.allowed).toBe(false);
      return result['reject-reason'];
    };
    const fundTxid = devnet.fund(alice.address, 300_000n, { confirmations: 1 });
    const vout = devnet.chain.getTransaction(fundTxid)!.tx.outputs.findIndex((o) => o.value === 300_000n);
    const coin = { txid: fundTxid, vout, value: 300_000n, script: alice.script };

    // already in the chain, with an output unspent
    const inBlock = hex.encode(devnet.chain.getTransaction(fundTxid)!.tx.raw);
    expect(await reasonOf(inBlock)).toBe('txn-already-known');
    expect(await rpcError('sendrawtransaction', inBlock)).toEqual({
      code: -27,
      message: 'Transaction outputs already in utxo set',
    });

    // in the mempool; then a conflict with it, which does not signal replaceability (no full RBF)
    const final = signSpend(alice, [coin], [{ script: bob.script, value: 299_000n }], {
      sequence: 0xffffffff,
    });
    const finalTxid = await rpc('sendrawtransaction', final);
    expect(await reasonOf(final)).toBe('txn-already-in-mempool');
    const conflict = signSpend(alice, [coin], [{ script: carol.script, value: 290_000n }]);
    expect(await reasonOf(conflict)).toBe('txn-mempool-conflict');

    // inputs that never existed
    const orphan = signSpend(
      alice,
      [{ ...coin, txid: 'ee'.repeat(32) }],
      [{ script: bob.script, value: 1_000n }],
    );
    expect(await reasonOf(orphan)).toBe('missing-inputs');
    expect(await rpcError('sendrawtransaction', orphan)).toEqual({
      code: -25,
      message: 'bad-txns-inputs-missingorspent',
    });

    // a confirmed tx whose only output is spent since: its coins are gone, so its inputs are missing
    devnet.mine(1);
    const toCarol = signSpend(
      bob,
      [{ txid: finalTxid, vout: 0, value: 299_000n, script: bob.script }],
      [{ script: carol.script, value: 298_000n }],
    );
    await rpc('sendrawtransaction', toCarol);
    devnet.mine(1);
    expect(await reasonOf(final)).toBe('missing-inputs');
  });

  it('estimatesmartfee, invalidateblock and generatetoaddress errors', async () => {
    expect(await rpc('estimatesmartfee', 6)).toEqual({ feerate: 0.00002, blocks: 6 });
    expect(await rpcError('estimatesmartfee', 0)).toEqual({
      code: -8,
      message: 'Invalid conf_target, must be between 1 and 1008',
    });
    const height = await rpc('getblockcount');
    const tipHash = await rpc('getbestblockhash');
    expect(await rpc('invalidateblock', tipHash)).toBeNull();
    expect(await rpc('getblockcount')).toBe(height - 1);
    expect((await rpc('getblockheader', tipHash)).confirmations).toBe(-1);
    expect(await rpcError('generatetoaddress', 1, 'notanaddress')).toEqual({
      code: -5,
      message: 'Error: Invalid address',
    });
    const [newTip] = await rpc('generatetoaddress', 1, alice.address);
    expect(newTip).not.toBe(tipHash);
    expect(await rpc('getblockcount')).toBe(height);
  });
});
