// The Esplora REST subset over HTTP with fetch, checked against Esplora's JSON shapes and texts.
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from './index.ts';
import { signSpend, testKey } from './testkit.ts';

let devnet: Devnet;
const alice = testKey('alice');
const bob = testKey('bob');
let fundingTxid: string;

const get = async (path: string) => {
  const res = await fetch(`${devnet.esploraUrl}${path}`);
  return { status: res.status, text: await res.text() };
};
const getJson = async (path: string) => {
  const { status, text } = await get(path);
  expect(status, `${path}: ${text}`).toBe(200);
  return JSON.parse(text);
};

beforeAll(async () => {
  devnet = await startDevnet({ esploraPort: 0, rpcPort: 0 });
  fundingTxid = devnet.fund(alice.address, 100_000n, { confirmations: 1 });
});
afterAll(() => devnet.stop());

describe('Esplora blocks', () => {
  it('answers tip height/hash, block-height, block json, header, status and txids', async () => {
    const tip = devnet.chain.tip();
    expect(await get('/blocks/tip/height')).toEqual({ status: 200, text: String(tip.height) });
    expect(await get('/blocks/tip/hash')).toEqual({ status: 200, text: tip.hash });
    expect((await get(`/block-height/${tip.height}`)).text).toBe(tip.hash);
    expect(await get('/block-height/99999')).toEqual({ status: 404, text: 'Block not found' });
    const block = await getJson(`/block/${tip.hash}`);
    expect(block).toMatchObject({
      id: tip.hash,
      height: tip.height,
      tx_count: 2,
      previousblockhash: tip.prevHash,
      bits: 0x207fffff,
    });
    expect(Object.keys(block).sort()).toEqual(
      [
        'bits',
        'difficulty',
        'height',
        'id',
        'mediantime',
        'merkle_root',
        'nonce',
        'previousblockhash',
        'size',
        'timestamp',
        'tx_count',
        'version',
        'weight',
      ].sort(),
    );
    const header = (await get(`/block/${tip.hash}/header`)).text;
    expect(header).toHaveLength(160);
    expect(hex.encode(sha256(sha256(hex.decode(header))).reverse())).toBe(tip.hash);
    expect(await getJson(`/block/${tip.hash}/status`)).toEqual({
      in_best_chain: true,
      height: tip.height,
      next_best: null,
    });
    expect(await getJson(`/block/${tip.prevHash}/status`)).toEqual({
      in_best_chain: true,
      height: tip.height - 1,
      next_best: tip.hash,
    });
    expect(await getJson(`/block/${tip.hash}/txids`)).toEqual(tip.txs.map((t) => t.txid));
    expect((await get(`/block/${'00'.repeat(32)}`)).status).toBe(404);
  });
});

describe('Esplora transactions', () => {
  it('serves tx json, hex, raw, status and merkle proof', async () => {
    const found = devnet.chain.getTransaction(fundingTxid)!;
    const tx = await getJson(`/tx/${fundingTxid}`);
    expect(tx).toMatchObject({
      txid: fundingTxid,
      version: 2,
      locktime: 0,
      size: found.tx.size,
      weight: found.tx.weight,
      fee: Number(found.fee),
    });
    expect(tx.status).toEqual({
      confirmed: true,
      block_height: found.location!.height,
      block_hash: found.location!.blockHash,
      block_time: found.location!.time,
    });
    const paid = tx.vout.find((o: { value: number }) => o.value === 100_000);
    expect(paid).toEqual({
      scriptpubkey: hex.encode(alice.script),
      scriptpubkey_asm: `OP_0 OP_PUSHBYTES_20 ${hex.encode(alice.script.subarray(2))}`,
      scriptpubkey_type: 'v0_p2wpkh',
      scriptpubkey_address: alice.address,
      value: 100_000,
    });
    expect(tx.vin[0]).toMatchObject({ is_coinbase: false, sequence: 0xfffffffd, scriptsig: '' });
    expect(tx.vin[0].witness).toHaveLength(2);
    expect(tx.vin[0].prevout.scriptpubkey_type).toBe('v0_p2wpkh');
    expect((await get(`/tx/${fundingTxid}/hex`)).text).toBe(hex.encode(found.tx.raw));
    const raw = new Uint8Array(
      await (await fetch(`${devnet.esploraUrl}/tx/${fundingTxid}/raw`)).arrayBuffer(),
    );
    expect(hex.encode(raw)).toBe(hex.encode(found.tx.raw));
    expect(await getJson(`/tx/${fundingTxid}/status`)).toEqual(tx.status);
    const proof = await getJson(`/tx/${fundingTxid}/merkle-proof`);
    expect(proof).toEqual({
      block_height: found.location!.height,
      merkle: [devnet.chain.getBlock(found.location!.blockHash)!.txs[0]!.txid],
      pos: 1,
    });
    expect(await get(`/tx/${'11'.repeat(32)}`)).toEqual({ status: 404, text: 'Transaction not found' });
  });

  it('posts transactions, reports outspends, mempool txids, address utxos and history', async () => {
    const vout = devnet.chain.getTransaction(fundingTxid)!.tx.outputs.findIndex((o) => o.value === 100_000n);
    const coin = { txid: fundingTxid, vout, value: 100_000n, script: alice.script };
    const goodSpend = signSpend(alice, [coin], [{ script: bob.script, value: 99_000n }]);
    const posted = await fetch(`${devnet.esploraUrl}/tx`, { method: 'POST', body: goodSpend });
    const spendTxid = await posted.text();
    expect(posted.status).toBe(200);
    expect(spendTxid).toMatch(/^[0-9a-f]{64}$/);
    expect(await getJson('/mempool/txids')).toEqual([spendTxid]);
    expect(await getJson(`/tx/${spendTxid}/status`)).toEqual({ confirmed: false });
    expect(await getJson(`/tx/${fundingTxid}/outspend/${vout}`)).toEqual({
      spent: true,
      txid: spendTxid,
      vin: 0,
      status: { confirmed: false },
    });
    const outspends = await getJson(`/tx/${fundingTxid}/outspends`);
    expect(outspends).toHaveLength(devnet.chain.getTransaction(fundingTxid)!.tx.outputs.length);

    const again = await fetch(`${devnet.esploraUrl}/tx`, {
      method: 'POST',
      body: goodSpend.replace(/..$/, '01'),
    });
    expect(again.status).toBe(400);
    expect(await again.text()).toMatch(/^sendrawtransaction RPC error: \{"code":-2[2-6],"message":".+"\}$/);

    const bobUtxo = await getJson(`/address/${bob.address}/utxo`);
    expect(bobUtxo).toEqual([{ txid: spendTxid, vout: 0, status: { confirmed: false }, value: 99_000 }]);
    const aliceTxs = await getJson(`/address/${alice.address}/txs`);
    expect(aliceTxs.map((t: { txid: string }) => t.txid)).toEqual([spendTxid, fundingTxid]);
    const scripthash = hex.encode(sha256(bob.script));
    expect((await getJson(`/scripthash/${scripthash}/txs`)).map((t: { txid: string }) => t.txid)).toEqual([
      spendTxid,
    ]);

    devnet.mine(1);
    expect(await getJson(`/tx/${fundingTxid}/outspend/${vout}`)).toMatchObject({
      spent: true,
      status: { confirmed: true },
    });
    expect((await getJson(`/address/${bob.address}/utxo`))[0].status.confirmed).toBe(true);
  });

  it('returns bitcoind reject texts for POST /tx and fee estimates', async () => {
    const coin = { txid: fundingTxid, vout: 0, value: 1n, script: alice.script };
    const res = await fetch(`${devnet.esploraUrl}/tx`, {
      method: 'POST',
      body: signSpend(
        alice,
        [{ ...coin, txid: 'cd'.repeat(32), value: 5000n }],
        [{ script: bob.script, value: 4000n }],
      ),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(
      'sendrawtransaction RPC error: {"code":-25,"message":"bad-txns-inputs-missingorspent"}',
    );
    const fees = await getJson('/fee-estimates');
    expect(fees['1']).toBe(2);
    expect(fees['1008']).toBe(2);
  });
});

describe('Esplora history paging', () => {
  it('pages confirmed history 25 at a time, newest first, by /txs/chain/:last_seen_txid and ?after_txid=, mempool first on the first page', async () => {
    const carol = testKey('carol');
    const confirmed: string[] = [];
    // 30 payments over four blocks, then two waiting in the mempool
    for (let i = 0; i < 30; i++) {
      confirmed.push(devnet.fund(carol.address, 1_000 + i));
      if (i % 8 === 7 || i === 29) devnet.mine(1);
    }
    const pending = [devnet.fund(carol.address, 5_000), devnet.fund(carol.address, 5_001)];
    const ids = (txs: { txid: string }[]) => txs.map((t) => t.txid);
    const heights = (txs: { status: { block_height: number } }[]) => txs.map((t) => t.status.block_height);

    const first = await getJson(`/address/${carol.address}/txs`);
    expect(first).toHaveLength(2 + 25);
    expect(ids(first.slice(0, 2))).toEqual([...pending].reverse());
    const firstConfirmed = first.slice(2);
    const lastSeen = firstConfirmed[24].txid;
    const rest = await getJson(`/address/${carol.address}/txs?after_txid=${lastSeen}`);
    expect(rest).toHaveLength(5);
    expect(rest.every((t: { status: { confirmed: boolean } }) => t.status.confirmed)).toBe(true);
    // every confirmed payment once, newest block first
    const all = [...firstConfirmed, ...rest];
    expect(new Set(ids(all))).toEqual(new Set(confirmed));
    expect(heights(all)).toEqual([...heights(all)].sort((a, b) => b - a));
    expect(await getJson(`/address/${carol.address}/txs?after_txid=${rest[4].txid}`)).toEqual([]);

    // the same pages by path, for the address and its scripthash
    const scripthash = hex.encode(sha256(carol.script));
    for (const base of [`/address/${carol.address}`, `/scripthash/${scripthash}`]) {
      expect(ids(await getJson(`${base}/txs/chain`))).toEqual(ids(firstConfirmed));
      expect(ids(await getJson(`${base}/txs/chain/${lastSeen}`))).toEqual(ids(rest));
      expect(await getJson(`${base}/txs/chain/${rest[4].txid}`)).toEqual([]);
      expect(ids(await getJson(`${base}/txs?after_txid=${lastSeen}`))).toEqual(ids(rest));
    }
    // a txid that is not in this history: electrs' empty page, mempool.space's 422
    const stranger = fundingTxid;
    expect(await getJson(`/address/${carol.address}/txs/chain/${stranger}`)).toEqual([]);
    expect(await get(`/address/${carol.address}/txs?after_txid=${stranger}`)).toEqual({
      status: 422,
      text: 'after_txid not found',
    });
    // after a mempool txid: the rest of the mempool, then the confirmed history from its start
    const afterPending = await getJson(`/address/${carol.address}/txs?after_txid=${pending[1]}`);
    expect(ids(afterPending)).toEqual([pending[0], ...ids(firstConfirmed)]);
    devnet.mine(1);
  });
});

describe('Esplora from a wallet on another origin', () => {
  it('any origin may read it (CORS *, preflight answered), as with public Esplora servers; the RPC sends no CORS', async () => {
    const tip = await fetch(`${devnet.esploraUrl}/blocks/tip/height`, {
      headers: { origin: 'http://127.0.0.1:8081' },
    });
    expect(tip.headers.get('access-control-allow-origin')).toBe('*');
    const preflight = await fetch(`${devnet.esploraUrl}/tx`, {
      method: 'OPTIONS',
      headers: { origin: 'https://wallet.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    const rpc = await fetch(devnet.rpcUrl, { method: 'POST', headers: { origin: 'https://wallet.example' } });
    expect(rpc.headers.get('access-control-allow-origin')).toBeNull();
  });
});
