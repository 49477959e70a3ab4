// bitcoind JSON-RPC (the subset chain clients and test scripts use) over the chain, answering with
// bitcoind's result shapes, error codes and messages, JSON-RPC 1.0 and 2.0, single or batched.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Block, blockWork, merkleBlock, serializeBlock } from './block.ts';
import type { Chain, ChainTx } from './chain.ts';
import { DevnetError, RejectError, RPC_CODE } from './errors.ts';
import type { Faucet } from './faucet.ts';
import { type Listening, listen, send } from './http.ts';
import { formatMoney } from './mempool.ts';
import { bitcoindAsm, isCoinbase, satsToBtc, scriptAddress, scriptKind, type TxOutput, toHex } from './tx.ts';

export interface RpcAuth {
  user: string;
  password: string;
}

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const REGTEST_DIFFICULTY = 4.656542373906925e-10;
/** sendrawtransaction's default maxfeerate, 0.10 BTC/kvB, in sat/vB. */
const DEFAULT_MAX_FEE_RATE = 10_000;

/** What the RPC server serves: the chain, and the faucet for the devnet_* extension methods. */
interface Served {
  chain: Chain;
  faucet?: Faucet;
}

export function startRpc(served: Served, host: string, port: number, auth?: RpcAuth): Promise<Listening> {
  return listen((req, body, res) => handle(served, auth, req, body, res), host, port);
}

function handle(
  served: Served,
  auth: RpcAuth | undefined,
  req: IncomingMessage,
  body: Buffer,
  res: ServerResponse,
): void {
  if (auth) {
    const expected = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="jsonrpc"' }).end();
      return;
    }
  }
  if (req.method !== 'POST') {
    send(res, 405, 'JSONRPC server handles only POST requests');
    return;
  }
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch {
    send(res, 500, { result: null, error: { code: RPC_CODE.PARSE_ERROR, message: 'Parse error' }, id: null });
    return;
  }
  if (Array.isArray(request)) {
    send(
      res,
      200,
      request.map((r) => reply(served, r).body),
    );
    return;
  }
  const { status, body: answer } = reply(served, request);
  send(res, status, answer);
}

/** One request → reply; legacy (1.0) errors use bitcoind's HTTP statuses, 2.0 always 200. */
function reply(served: Served, request: unknown): { status: number; body: object } {
  const r = (request ?? {}) as { method?: unknown; params?: unknown; id?: unknown; jsonrpc?: unknown };
  const id = r.id ?? null;
  const v2 = r.jsonrpc === '2.0';
  try {
    if (typeof r.method !== 'string') throw new RpcError(RPC_CODE.INVALID_REQUEST, 'Method must be a string');
    const params = r.params === undefined ? [] : r.params;
    if (!Array.isArray(params)) throw new RpcError(RPC_CODE.INVALID_REQUEST, 'Params must be an array');
    const result = call(served, r.method, params);
    return { status: 200, body: v2 ? { jsonrpc: '2.0', result, id } : { result, error: null, id } };
  } catch (e) {
    const error = toRpcError(e);
    const body = v2 ? { jsonrpc: '2.0', error, id } : { result: null, error, id };
    const status = v2
      ? 200
      : error.code === RPC_CODE.METHOD_NOT_FOUND
        ? 404
        : error.code === RPC_CODE.INVALID_REQUEST
          ? 400
          : 500;
    return { status, body };
  }
}

function toRpcError(e: unknown): { code: number; message: string } {
  if (e instanceof RpcError) return { code: e.code, message: e.message };
  if (e instanceof RejectError) return { code: e.code, message: e.message };
  if (e instanceof DevnetError) {
    if (e.code === 'TX_DECODE')
      return {
        code: RPC_CODE.DESERIALIZATION_ERROR,
        message: 'TX decode failed. Make sure the tx has at least one input.',
      };
    if (e.code === 'INVALID_ADDRESS')
      return { code: RPC_CODE.INVALID_ADDRESS_OR_KEY, message: 'Error: Invalid address' };
    if (e.code === 'BLOCK_NOT_FOUND')
      return { code: RPC_CODE.INVALID_ADDRESS_OR_KEY, message: 'Block not found' };
    if (e.code === 'INSUFFICIENT_FUNDS') return { code: -6, message: e.message };
    return { code: RPC_CODE.INVALID_PARAMETER, message: e.message };
  }
  throw e;
}

// --- parameter checks (bitcoind's messages) -------------------------------------------

/**
 * gettxoutproof ["txid",...] ( "blockhash" ): the BIP 37 merkleblock proving the txids, all in one
 * block — the named one, or the block holding the first of them that is confirmed (a txindex node).
 */
function txOutProof(chain: Chain, p: unknown[]): string {
  if (!Array.isArray(p[0]))
    throw new RpcError(-3, `JSON value of type ${jsonType(p[0])} is not of expected type array`);
  const txids = new Set<string>();
  for (const value of p[0]) {
    const txid = hashParam(value, 'txid');
    if (txids.has(txid))
      throw new RpcError(RPC_CODE.INVALID_PARAMETER, `Invalid parameter, duplicated txid: ${txid}`);
    txids.add(txid);
  }
  let block: Block | undefined;
  if (p[1] !== undefined && p[1] !== null) block = blockByHash(chain, p[1]);
  for (const txid of block ? [] : txids) {
    const location = chain.getTransaction(txid)?.location;
    if (location) {
      block = chain.getBlock(location.blockHash);
      break;
    }
  }
  if (!block) throw new RpcError(RPC_CODE.INVALID_ADDRESS_OR_KEY, 'Transaction not yet in block');
  const matched = new Set(block.txs.flatMap((t, i) => (txids.has(t.txid) ? [i] : [])));
  if (matched.size !== txids.size)
    throw new RpcError(
      RPC_CODE.INVALID_ADDRESS_OR_KEY,
      'Not all transactions found in specified or retrieved block',
    );
  return toHex(merkleBlock(block, matched));
}

function hashParam(value: unknown, name: string): string {
  if (typeof value !== 'string')
    throw new RpcError(-3, `JSON value of type ${jsonType(value)} is not of expected type string`);
  if (value.length !== 64)
    throw new RpcError(
      RPC_CODE.INVALID_PARAMETER,
      `${name} must be of length 64 (not ${value.length}, for '${value}')`,
    );
  if (!/^[0-9a-fA-F]+$/.test(value))
    throw new RpcError(RPC_CODE.INVALID_PARAMETER, `${name} must be hexadecimal string (not '${value}')`);
  return value.toLowerCase();
}

function intParam(value: unknown, fallback?: number): number {
  if (value === undefined || value === null) {
    if (fallback === undefined) throw new RpcError(RPC_CODE.MISC_ERROR, 'missing required parameter');
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new RpcError(-3, `JSON value of type ${jsonType(value)} is not of expected type number`);
  }
  return value;
}

function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** verbose flags may be bool or number (getrawtransaction, getblock verbosity). */
const verbosity = (value: unknown, fallback: number): number =>
  value === undefined || value === null
    ? fallback
    : typeof value === 'boolean'
      ? Number(value)
      : intParam(value);

function blockByHash(chain: Chain, value: unknown): Block {
  const block = chain.getBlock(hashParam(value, 'blockhash'));
  if (!block) throw new RpcError(RPC_CODE.INVALID_ADDRESS_OR_KEY, 'Block not found');
  return block;
}

// --- methods ----------------------------------------------------------------------------

function call({ chain, faucet }: Served, method: string, p: unknown[]): unknown {
  switch (method) {
    // Devnet extensions (not bitcoind): what the CLI's `fund` and `mine` need.
    case 'devnet_faucetaddress':
      if (!faucet) throw new RpcError(RPC_CODE.METHOD_NOT_FOUND, 'Method not found');
      return faucet.address;
    case 'devnet_fund': {
      if (!faucet) throw new RpcError(RPC_CODE.METHOD_NOT_FOUND, 'Method not found');
      if (typeof p[0] !== 'string')
        throw new RpcError(RPC_CODE.INVALID_ADDRESS_OR_KEY, 'Error: Invalid address');
      return faucet.fund(p[0], BigInt(intParam(p[1])), { confirmations: intParam(p[2], 0) });
    }
    // Fee weather of the chain's estimators and the mempool's load: ['spike', 10], ['climb', 10, 5],
    // ['crash'], ['set', 2], ['mempoolminfee', 20], or [] to read it. Answers the state after.
    case 'devnet_feeweather':
      feeWeatherCommand(chain, p);
      return {
        satPerVb: chain.weather.level(),
        nextBlockSatPerVb: chain.weather.level(chain.tipHeight + 1),
        mempoolMinFeeSatPerVb: chain.mempoolMinFeeRate,
      };
    case 'getblockchaininfo': {
      const tip = chain.tip();
      return {
        chain: 'regtest',
        blocks: tip.height,
        headers: tip.height,
        bestblockhash: tip.hash,
        bits: tip.bits.toString(16).padStart(8, '0'),
        target: targetHex(tip),
        difficulty: REGTEST_DIFFICULTY,
        time: tip.time,
        mediantime: chain.medianTimePast(tip.height),
        verificationprogress: 1,
        initialblockdownload: false,
        chainwork: chainWorkHex(chain, tip.height),
        size_on_disk: 0,
        pruned: false,
        warnings: [],
      };
    }
    case 'getblockcount':
      return chain.tipHeight;
    case 'getbestblockhash':
      return chain.tip().hash;
    case 'getblockhash': {
      const height = intParam(p[0]);
      const block = chain.getBlock(height);
      if (height < 0 || !block) throw new RpcError(RPC_CODE.INVALID_PARAMETER, 'Block height out of range');
      return block.hash;
    }
    case 'getblockheader': {
      const block = blockByHash(chain, p[0]);
      return p[1] === false ? toHex(block.header) : headerJson(chain, block);
    }
    case 'getblock': {
      const block = blockByHash(chain, p[0]);
      const level = verbosity(p[1], 1);
      if (level === 0) return toHex(serializeBlock(block));
      return {
        ...headerJson(chain, block),
        strippedsize: block.strippedSize,
        size: block.size,
        weight: block.weight,
        tx:
          level === 1
            ? block.txs.map((t) => t.txid)
            : block.txs.map((t) => decodedTx(chain, chain.getTransaction(t.txid)!, level >= 3, true)),
      };
    }
    case 'getrawtransaction':
      return getRawTransaction(chain, p);
    case 'gettxoutproof':
      return txOutProof(chain, p);
    case 'sendrawtransaction': {
      const raw = rawParam(p[0]);
      const maxFeeRate = maxFeeRateParam(p[1]);
      const test = chain.testMempoolAccept(raw);
      // bitcoind checks the fee cap before broadcasting, only for transactions that would be accepted.
      if (test.allowed && maxFeeRate > 0 && Number(test.fee) / test.vsize! > maxFeeRate) {
        throw new RpcError(
          RPC_CODE.VERIFY_ERROR,
          'Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)',
        );
      }
      const known = chain.getTransaction(test.txid);
      if (known && !known.location) return known.tx.txid; // already in the mempool: bitcoind answers the txid
      return chain.submitTransaction(raw);
    }
    case 'testmempoolaccept': {
      if (!Array.isArray(p[0]))
        throw new RpcError(-3, `JSON value of type ${jsonType(p[0])} is not of expected type array`);
      const maxFeeRate = maxFeeRateParam(p[1]);
      return p[0].map((raw) => {
        const result = chain.testMempoolAccept(rawParam(raw));
        if (!result.allowed)
          return {
            txid: result.txid,
            wtxid: result.wtxid,
            allowed: false,
            'reject-reason': result.rejectReason,
          };
        const rate = Number(result.fee) / result.vsize!;
        if (maxFeeRate > 0 && rate > maxFeeRate) {
          return {
            txid: result.txid,
            wtxid: result.wtxid,
            allowed: false,
            'reject-reason': 'max-fee-exceeded',
          };
        }
        return {
          txid: result.txid,
          wtxid: result.wtxid,
          allowed: true,
          vsize: result.vsize,
          fees: {
            base: satsToBtc(result.fee!),
            'effective-feerate': Number(((Number(result.fee) * 1000) / result.vsize! / 1e8).toFixed(8)),
            'effective-includes': [result.wtxid],
          },
        };
      });
    }
    case 'estimatesmartfee': {
      const target = intParam(p[0]);
      if (target < 1 || target > 1008)
        throw new RpcError(RPC_CODE.INVALID_PARAMETER, 'Invalid conf_target, must be between 1 and 1008');
      // sat/vB → BTC/kvB
      return { feerate: Number(((chain.estimateFeeRate(target) * 1000) / 1e8).toFixed(8)), blocks: target };
    }
    case 'getmempoolinfo': {
      let bytes = 0;
      let fee = 0n;
      for (const e of chain.mempool.entries.values()) {
        bytes += e.tx.vsize;
        fee += e.fee;
      }
      const btcPerKvb = (satPerVb: number) => Number(((satPerVb * 1000) / 1e8).toFixed(8));
      return {
        loaded: true,
        size: chain.mempool.entries.size,
        bytes,
        usage: bytes * 4, // Core counts allocator bytes; the devnet has no better figure than weight
        total_fee: satsToBtc(fee),
        maxmempool: 300_000_000,
        mempoolminfee: btcPerKvb(chain.mempoolMinFeeRate),
        minrelaytxfee: btcPerKvb(chain.minRelayFeeRate),
        incrementalrelayfee: btcPerKvb(chain.minRelayFeeRate),
        unbroadcastcount: 0,
        fullrbf: chain.fullRbf,
      };
    }
    case 'getrawmempool': {
      if (!p[0]) return [...chain.mempool.entries.keys()];
      return Object.fromEntries(
        [...chain.mempool.entries.keys()].map((txid) => [txid, mempoolEntryJson(chain, txid)]),
      );
    }
    case 'getmempoolentry': {
      const txid = hashParam(p[0], 'txid');
      if (!chain.mempool.get(txid))
        throw new RpcError(RPC_CODE.INVALID_ADDRESS_OR_KEY, 'Transaction not in mempool');
      return mempoolEntryJson(chain, txid);
    }
    case 'gettxout': {
      const txid = hashParam(p[0], 'txid');
      const vout = intParam(p[1]);
      const includeMempool = p[2] === undefined ? true : Boolean(p[2]);
      const coin = chain.utxo({ txid, vout }, includeMempool);
      if (!coin) return null;
      return {
        bestblock: chain.tip().hash,
        confirmations: coin.confirmed ? chain.tipHeight - coin.height + 1 : 0,
        value: satsToBtc(coin.value),
        scriptPubKey: scriptPubKeyJson(coin),
        coinbase: coin.coinbase,
      };
    }
    case 'generatetoaddress': {
      const n = intParam(p[0]);
      if (typeof p[1] !== 'string')
        throw new RpcError(RPC_CODE.INVALID_ADDRESS_OR_KEY, 'Error: Invalid address');
      return chain.mine(n, p[1]).map((b) => b.hash);
    }
    case 'invalidateblock':
      chain.invalidateBlock(blockByHash(chain, p[0]).hash);
      return null;
    case 'getnetworkinfo':
      return {
        version: 280000,
        subversion: '/devnet:0.1.0/',
        protocolversion: 70016,
        relayfee: (chain.minRelayFeeRate * 1000) / 1e8,
        incrementalfee: (chain.minRelayFeeRate * 1000) / 1e8,
        warnings: [],
      };
    default:
      throw new RpcError(RPC_CODE.METHOD_NOT_FOUND, 'Method not found');
  }
}

function feeWeatherCommand(chain: Chain, p: unknown[]): void {
  const number = (i: number) => {
    if (typeof p[i] !== 'number')
      throw new RpcError(RPC_CODE.INVALID_PARAMETER, `parameter ${i + 1} must be a number`);
    return p[i] as number;
  };
  switch (p[0]) {
    case undefined:
      return;
    case 'spike':
      chain.weather.spike(number(1));
      return;
    case 'climb':
      chain.weather.climb(number(1), number(2));
      return;
    case 'crash':
      chain.weather.crash();
      return;
    case 'set':
      chain.weather.set(number(1));
      return;
    case 'mempoolminfee':
      chain.mempoolMinFeeRate = number(1);
      return;
    default:
      throw new RpcError(
        RPC_CODE.INVALID_PARAMETER,
        `unknown fee weather action ${JSON.stringify(p[0])} (spike, climb, crash, set, mempoolminfee)`,
      );
  }
}

function rawParam(value: unknown): string {
  if (typeof value !== 'string')
    throw new RpcError(-3, `JSON value of type ${jsonType(value)} is not of expected type string`);
  return value;
}

/** maxfeerate in BTC/kvB → sat/vB; 0 disables the check. */
function maxFeeRateParam(value: unknown): number {
  if (value === undefined || value === null) return DEFAULT_MAX_FEE_RATE;
  if (typeof value !== 'number' && typeof value !== 'string')
    throw new RpcError(-3, 'Amount is not a number or string');
  const btcPerKvb = Number(value);
  if (!Number.isFinite(btcPerKvb) || btcPerKvb < 0)
    throw new RpcError(RPC_CODE.INVALID_PARAMETER, 'Amount out of range');
  return (btcPerKvb * 1e8) / 1000;
}

function getRawTransaction(chain: Chain, p: unknown[]): unknown {
  const txid = hashParam(p[0], 'parameter 1');
  const level = verbosity(p[1], 0);
  let found: ChainTx | undefined;
  if (p[2] !== undefined && p[2] !== null) {
    const block = blockByHash(chain, p[2]);
    found =
      block.txs.some((t) => t.txid === txid) && chain.isActive(block.hash)
        ? chain.getTransaction(txid)
        : undefined;
    if (!found)
      throw new RpcError(
        RPC_CODE.INVALID_ADDRESS_OR_KEY,
        'No such transaction found in the provided block. Use gettransaction for wallet transactions.',
      );
  } else {
    found = chain.getTransaction(txid);
    if (!found)
      throw new RpcError(
        RPC_CODE.INVALID_ADDRESS_OR_KEY,
        'No such mempool or blockchain transaction. Use gettransaction for wallet transactions.',
      );
  }
  if (level === 0) return toHex(found.tx.raw);
  const json: Record<string, unknown> = {
    ...decodedTx(chain, found, level >= 2, level >= 2),
    hex: toHex(found.tx.raw),
  };
  if (found.location) {
    const block = chain.getBlock(found.location.blockHash)!;
    Object.assign(json, {
      ...(p[2] !== undefined && p[2] !== null ? { in_active_chain: true } : {}),
      blockhash: block.hash,
      confirmations: chain.confirmations(block.hash),
      time: block.time,
      blocktime: block.time,
    });
  }
  return json;
}

function headerJson(chain: Chain, block: Block): Record<string, unknown> {
  const next = chain.isActive(block.hash) ? chain.getBlock(block.height + 1) : undefined;
  return {
    hash: block.hash,
    confirmations: chain.confirmations(block.hash),
    height: block.height,
    version: block.version,
    versionHex: block.version.toString(16).padStart(8, '0'),
    merkleroot: block.merkleRoot,
    time: block.time,
    mediantime: chain.medianTimePast(block.height),
    nonce: block.nonce,
    bits: block.bits.toString(16).padStart(8, '0'),
    target: targetHex(block),
    difficulty: REGTEST_DIFFICULTY,
    chainwork: chainWorkHex(chain, block.height),
    nTx: block.txs.length,
    ...(block.height > 0 ? { previousblockhash: block.prevHash } : {}),
    ...(next ? { nextblockhash: next.hash } : {}),
  };
}

const chainWorkHex = (chain: Chain, height: number): string =>
  (chain.getBlock(height) ? chain.chainWork(height) : blockWork(0x207fffff)).toString(16).padStart(64, '0');

function targetHex(block: Block): string {
  const exponent = block.bits >>> 24;
  const target = BigInt(block.bits & 0x7fffff) << BigInt(8 * (exponent - 3));
  return target.toString(16).padStart(64, '0');
}

const BITCOIND_TYPE: Record<string, string> = {
  p2pkh: 'pubkeyhash',
  p2sh: 'scripthash',
  v0_p2wpkh: 'witness_v0_keyhash',
  v0_p2wsh: 'witness_v0_scripthash',
  v1_p2tr: 'witness_v1_taproot',
  op_return: 'nulldata',
  p2pk: 'pubkey',
  multisig: 'multisig',
  anchor: 'anchor',
  unknown_witness: 'witness_unknown',
  nonstandard: 'nonstandard',
};

function scriptPubKeyJson(o: TxOutput): Record<string, unknown> {
  const address = scriptAddress(o.script);
  return {
    asm: bitcoindAsm(o.script),
    hex: toHex(o.script),
    ...(address ? { address } : {}),
    type: BITCOIND_TYPE[scriptKind(o.script)],
  };
}

/** decoderawtransaction's shape; plus fee (getblock 2+, getrawtransaction 2) and prevouts (getblock 3, getrawtransaction 2). */
function decodedTx(chain: Chain, t: ChainTx, prevouts: boolean, withFee: boolean): Record<string, unknown> {
  const { tx } = t;
  const coinbase = isCoinbase(tx);
  const json: Record<string, unknown> = {
    txid: tx.txid,
    hash: tx.wtxid,
    version: tx.version,
    size: tx.size,
    vsize: tx.vsize,
    weight: tx.weight,
    locktime: tx.lockTime,
    vin: tx.inputs.map((input, i) => {
      const witness = input.witness.length ? { txinwitness: input.witness.map(toHex) } : {};
      if (coinbase) return { coinbase: toHex(input.scriptSig), ...witness, sequence: input.sequence };
      const spent = t.spent[i];
      const prevTx = prevouts ? chain.getTransaction(input.txid) : undefined;
      return {
        txid: input.txid,
        vout: input.vout,
        scriptSig: { asm: bitcoindAsm(input.scriptSig), hex: toHex(input.scriptSig) },
        ...witness,
        ...(prevouts && spent
          ? {
              prevout: {
                generated: prevTx ? isCoinbase(prevTx.tx) : false,
                // bitcoind's MEMPOOL_HEIGHT for an unconfirmed parent
                height: prevTx?.location?.height ?? 0x7fffffff,
                value: satsToBtc(spent.value),
                scriptPubKey: scriptPubKeyJson(spent),
              },
            }
          : {}),
        sequence: input.sequence,
      };
    }),
    vout: tx.outputs.map((o, n) => ({ value: satsToBtc(o.value), n, scriptPubKey: scriptPubKeyJson(o) })),
  };
  if (withFee && !coinbase) json.fee = satsToBtc(t.fee);
  return json;
}

function mempoolEntryJson(chain: Chain, txid: string): object {
  const entry = chain.mempool.get(txid)!;
  const ancestors = [...chain.mempool.ancestors(txid)];
  const descendants = [...chain.mempool.descendants(txid)];
  const sum = (ids: string[], f: (id: string) => number | bigint) =>
    ids.reduce((n, id) => n + Number(f(id)), 0);
  const fee = (id: string) => chain.mempool.get(id)!.fee;
  const vsize = (id: string) => chain.mempool.get(id)!.tx.vsize;
  return {
    vsize: entry.tx.vsize,
    weight: entry.tx.weight,
    time: chain.tip().time,
    height: entry.height,
    descendantcount: descendants.length + 1,
    descendantsize: sum([txid, ...descendants], vsize),
    ancestorcount: ancestors.length + 1,
    ancestorsize: sum([txid, ...ancestors], vsize),
    wtxid: entry.tx.wtxid,
    fees: {
      base: satsToBtc(entry.fee),
      modified: satsToBtc(entry.fee),
      ancestor: Number(formatMoney(BigInt(sum([txid, ...ancestors], fee)))),
      descendant: Number(formatMoney(BigInt(sum([txid, ...descendants], fee)))),
    },
    depends: entry.tx.inputs
      .map((i) => i.txid)
      .filter((id, k, all) => chain.mempool.get(id) && all.indexOf(id) === k),
    spentby: descendants.filter((d) => chain.mempool.get(d)!.tx.inputs.some((i) => i.txid === txid)),
    'bip125-replaceable': entry.tx.inputs.some((i) => i.sequence <= 0xfffffffd),
    unbroadcast: false,
  };
}
