// Esplora REST (the Blockstream electrs API) over the chain, with its exact JSON shapes and its
// error texts, so wallet chain clients run unchanged against the devnet.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Block, merkleBlock, merkleBranch, serializeBlock } from './block.ts';
import type { Chain, ChainTx, Spend, TxLocation } from './chain.ts';
import { DevnetError, RejectError } from './errors.ts';
import type { FeeWeather } from './fee-weather.ts';
import { type Listening, listen, send } from './http.ts';
import type { Coin } from './mempool.ts';
import {
  addressScript,
  esploraAsm,
  isCoinbase,
  scriptAddress,
  scriptHash,
  scriptKind,
  type TxOutput,
  toHex,
} from './tx.ts';

const CONFIRMED_PAGE = 25;
const MEMPOOL_PAGE = 50;
const HASH = /^[0-9a-fA-F]{64}$/;
/** electrs' 404 for a merkle proof of a transaction it has but no block holds. */
const UNCONFIRMED = 'Transaction not found or is unconfirmed';
/** Confirmation targets Esplora reports estimates for. */
const FEE_TARGETS = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 144, 504, 1008,
];

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `weather`: the fee market this server's /fee-estimates reads (the chain's own by default). */
export function startEsplora(
  chain: Chain,
  host: string,
  port: number,
  weather?: FeeWeather,
): Promise<Listening> {
  return listen((req, body, res) => handle(chain, weather ?? chain.weather, req, body, res), host, port, {
    cors: true,
  });
}

function handle(
  chain: Chain,
  weather: FeeWeather,
  req: IncomingMessage,
  body: Buffer,
  res: ServerResponse,
): void {
  const url = new URL(req.url ?? '/', 'http://devnet');
  const path = url.pathname.replace(/\/+$/, '');
  try {
    if (req.method === 'POST' && path === '/tx') {
      postTx(chain, body, res);
      return;
    }
    if (req.method !== 'GET') throw new HttpError(405, 'Method not allowed');
    const result = route(chain, weather, path.split('/').slice(1), url.searchParams);
    if (result === undefined) throw new HttpError(404, 'Not found');
    send(res, 200, result);
  } catch (e) {
    if (e instanceof HttpError) send(res, e.status, e.message);
    else if (e instanceof DevnetError) send(res, 400, e.message);
    else throw e;
  }
}

function postTx(chain: Chain, body: Buffer, res: ServerResponse): void {
  try {
    send(res, 200, chain.submitTransaction(body.toString('utf8').trim()));
  } catch (e) {
    // electrs forwards bitcoind's error verbatim behind this prefix.
    if (e instanceof RejectError) {
      send(res, 400, `sendrawtransaction RPC error: ${JSON.stringify({ code: e.code, message: e.message })}`);
    } else if (e instanceof DevnetError && e.code === 'TX_DECODE') {
      send(
        res,
        400,
        `sendrawtransaction RPC error: ${JSON.stringify({ code: -22, message: 'TX decode failed. Make sure the tx has at least one input.' })}`,
      );
    } else throw e;
  }
}

type Body = string | Uint8Array | object | undefined;

function route(chain: Chain, weather: FeeWeather, parts: string[], query: URLSearchParams): Body {
  const [head, a, b, c, d] = parts;
  switch (head) {
    case 'blocks':
      if (a === 'tip' && b === 'height' && !c) return String(chain.tipHeight);
      if (a === 'tip' && b === 'hash' && !c) return chain.tip().hash;
      if (a === undefined || (/^\d+$/.test(a) && !b))
        return recentBlocks(chain, a === undefined ? chain.tipHeight : Number(a));
      return undefined;
    case 'block-height': {
      const block = /^\d+$/.test(a ?? '') && !b ? chain.getBlock(Number(a)) : undefined;
      if (!block) throw new HttpError(404, 'Block not found');
      return block.hash;
    }
    case 'block':
      return blockRoute(chain, a, b, c, d);
    case 'tx':
      return txRoute(chain, a, b, c, d);
    case 'address':
    case 'scripthash':
      return scriptRoute(chain, head, query.get('after_txid') ?? undefined, a, b, c, d);
    case 'mempool':
      if (a === 'txids' && !b) return [...chain.mempool.entries.keys()];
      if (a === undefined) return mempoolInfo(chain);
      if (a === 'recent' && !b) return mempoolRecent(chain);
      return undefined;
    case 'fee-estimates':
      if (a) return undefined;
      return Object.fromEntries(FEE_TARGETS.map((t) => [String(t), chain.estimateFeeRate(t, weather)]));
    default:
      return undefined;
  }
}

function blockRoute(chain: Chain, hash?: string, what?: string, arg?: string, extra?: string): Body {
  if (!hash || !HASH.test(hash)) throw new HttpError(400, 'Invalid hex string');
  const block = chain.getBlock(hash.toLowerCase());
  if (!block) throw new HttpError(404, 'Block not found');
  if (extra) return undefined;
  switch (what) {
    case undefined:
      return blockJson(chain, block);
    case 'header':
      return arg ? undefined : toHex(block.header);
    case 'raw':
      return arg ? undefined : serializeBlock(block);
    case 'status':
      return arg ? undefined : blockStatus(chain, block);
    case 'txids':
      return arg ? undefined : block.txs.map((t) => t.txid);
    case 'txid': {
      const tx = block.txs[Number(arg)];
      if (!/^\d+$/.test(arg ?? '') || !tx) throw new HttpError(404, 'Transaction not found');
      return tx.txid;
    }
    case 'txs': {
      const start = arg === undefined ? 0 : Number(arg);
      if (!Number.isInteger(start) || start % CONFIRMED_PAGE !== 0)
        throw new HttpError(400, 'start index must be a multipication of 25');
      if (start >= block.txs.length) throw new HttpError(400, 'start index out of range');
      return block.txs.slice(start, start + CONFIRMED_PAGE).map((t) => txJson(chain.getTransaction(t.txid)!));
    }
    default:
      return undefined;
  }
}

function txRoute(chain: Chain, txid?: string, what?: string, arg?: string, extra?: string): Body {
  if (!txid || !HASH.test(txid)) throw new HttpError(400, 'Invalid hex string');
  const found = chain.getTransaction(txid.toLowerCase());
  if (!found) throw new HttpError(404, 'Transaction not found');
  if (extra) return undefined;
  switch (what) {
    case undefined:
      return txJson(found);
    case 'hex':
      return arg ? undefined : toHex(found.tx.raw);
    case 'raw':
      return arg ? undefined : found.tx.raw;
    case 'status':
      return arg ? undefined : txStatus(found.location);
    case 'merkle-proof': {
      if (arg) return undefined;
      const loc = found.location;
      if (!loc) throw new HttpError(404, UNCONFIRMED);
      const block = chain.getBlock(loc.blockHash)!;
      return {
        block_height: loc.height,
        merkle: merkleBranch(
          block.txs.map((t) => t.txid),
          loc.index,
        ),
        pos: loc.index,
      };
    }
    case 'merkleblock-proof': {
      if (arg) return undefined;
      const loc = found.location;
      if (!loc) throw new HttpError(404, UNCONFIRMED);
      return toHex(merkleBlock(chain.getBlock(loc.blockHash)!, new Set([loc.index])));
    }
    case 'outspend': {
      const vout = Number(arg);
      if (!/^\d+$/.test(arg ?? '')) throw new HttpError(400, 'Invalid vout');
      if (vout >= found.tx.outputs.length) throw new HttpError(404, 'Transaction not found');
      return outspendJson(chain.outspend(found.tx.txid, vout));
    }
    case 'outspends':
      return arg
        ? undefined
        : found.tx.outputs.map((_, vout) => outspendJson(chain.outspend(found.tx.txid, vout)));
    default:
      return undefined;
  }
}

function scriptRoute(
  chain: Chain,
  kind: string,
  afterTxid: string | undefined,
  key?: string,
  what?: string,
  arg?: string,
  extra?: string,
): Body {
  if (!key) return undefined;
  let history: ChainTx[];
  let utxos: () => Coin[];
  if (kind === 'address') {
    let script: Uint8Array;
    try {
      script = addressScript(key);
    } catch {
      throw new HttpError(400, 'Invalid Bitcoin address');
    }
    history = chain.scriptHistory(script);
    utxos = () => chain.unspentFor(script);
  } else {
    if (!HASH.test(key)) throw new HttpError(400, 'Invalid hex string');
    history = chain.scriptHistoryByHash(key.toLowerCase());
    const script = findScript(history, key.toLowerCase());
    utxos = () => (script ? chain.unspentFor(script) : []);
  }
  const unconfirmed = history.filter((t) => !t.location);
  const confirmed = history.filter((t) => t.location);
  if (extra && !(what === 'txs' && arg === 'chain')) return undefined;
  switch (what) {
    case undefined:
      return scriptStats(kind === 'address' ? { address: key } : { scripthash: key }, history, key, kind);
    case 'txs':
      if (arg) return scriptTxsPage(history, arg, extra);
      return historyPage(unconfirmed, confirmed, afterTxid).map((t) => txJson(t));
    case 'utxo':
      if (arg) return undefined;
      return utxos().map((c) => ({
        txid: c.txid,
        vout: c.vout,
        status: txStatus(chain.getTransaction(c.txid)?.location),
        value: Number(c.value),
      }));
    default:
      return undefined;
  }
}

/**
 * /txs[?after_txid=]: newest first, up to 50 mempool transactions then the first 25 confirmed ones.
 * `after_txid` (mempool.space's electrs, which documents it for paging through confirmed history):
 * after a confirmed txid, the next 25 confirmed; after a mempool txid, the mempool after it, then
 * the first confirmed page; a txid that is not in this history is refused (422), as there. A value
 * that is not a txid is ignored, as there.
 */
function historyPage(unconfirmed: ChainTx[], confirmed: ChainTx[], afterTxid: string | undefined): ChainTx[] {
  const after = afterTxid && HASH.test(afterTxid) ? afterTxid.toLowerCase() : undefined;
  if (after === undefined)
    return [...unconfirmed.slice(0, MEMPOOL_PAGE), ...confirmed.slice(0, CONFIRMED_PAGE)];
  const inMempool = unconfirmed.findIndex((t) => t.tx.txid === after);
  if (inMempool >= 0)
    return [
      ...unconfirmed.slice(inMempool + 1, inMempool + 1 + MEMPOOL_PAGE),
      ...confirmed.slice(0, CONFIRMED_PAGE),
    ];
  const inChain = confirmed.findIndex((t) => t.tx.txid === after);
  if (inChain < 0) throw new HttpError(422, 'after_txid not found');
  return confirmed.slice(inChain + 1, inChain + 1 + CONFIRMED_PAGE);
}

/**
 * /txs/chain[/:last_seen_txid] (25 confirmed, newest first, after the last one seen) and
 * /txs/mempool. As in electrs, a last-seen txid that is not in the history yields an empty page (a
 * pager stops), and one that is not a txid at all is ignored.
 */
function scriptTxsPage(history: ChainTx[], which: string, lastSeen: string | undefined): Body {
  if (which === 'mempool')
    return history
      .filter((t) => !t.location)
      .slice(0, MEMPOOL_PAGE)
      .map((t) => txJson(t));
  if (which !== 'chain') return undefined;
  const confirmed = history.filter((t) => t.location);
  const seen = lastSeen && HASH.test(lastSeen) ? lastSeen.toLowerCase() : undefined;
  const start = seen === undefined ? 0 : confirmed.findIndex((t) => t.tx.txid === seen) + 1;
  if (start === 0 && seen !== undefined) return [];
  return confirmed.slice(start, start + CONFIRMED_PAGE).map((t) => txJson(t));
}

function findScript(history: ChainTx[], hash: string): Uint8Array | undefined {
  for (const t of history) {
    for (const o of [...t.tx.outputs, ...t.spent]) if (scriptHash(o.script) === hash) return o.script;
  }
  return undefined;
}

function scriptStats(id: object, history: ChainTx[], key: string, kind: string): object {
  const matches = (o: TxOutput): boolean =>
    kind === 'address' ? scriptAddress(o.script) === key : scriptHash(o.script) === key.toLowerCase();
  const stats = (txs: ChainTx[]) => {
    const fundedOutputs = txs.flatMap((t) => t.tx.outputs.filter(matches));
    const spentOutputs = txs.flatMap((t) => t.spent.filter(matches));
    const funded = fundedOutputs.length;
    const fundedSum = fundedOutputs.reduce((n, o) => n + o.value, 0n);
    const spent = spentOutputs.length;
    const spentSum = spentOutputs.reduce((n, o) => n + o.value, 0n);
    return {
      funded_txo_count: funded,
      funded_txo_sum: Number(fundedSum),
      spent_txo_count: spent,
      spent_txo_sum: Number(spentSum),
      tx_count: txs.length,
    };
  };
  return {
    ...id,
    chain_stats: stats(history.filter((t) => t.location)),
    mempool_stats: stats(history.filter((t) => !t.location)),
  };
}

export function txStatus(location?: TxLocation): object {
  return location
    ? {
        confirmed: true,
        block_height: location.height,
        block_hash: location.blockHash,
        block_time: location.time,
      }
    : { confirmed: false };
}

function outspendJson(spend: Spend | undefined): object {
  if (!spend) return { spent: false };
  return { spent: true, txid: spend.txid, vin: spend.vin, status: txStatus(spend.location) };
}

function outputJson(o: TxOutput): Record<string, unknown> {
  const address = scriptAddress(o.script);
  return {
    scriptpubkey: toHex(o.script),
    scriptpubkey_asm: esploraAsm(o.script),
    scriptpubkey_type: esploraType(o.script),
    ...(address ? { scriptpubkey_address: address } : {}),
    value: Number(o.value),
  };
}

function esploraType(script: Uint8Array): string {
  const kind = scriptKind(script);
  if (script.length === 0) return 'empty';
  if (kind === 'nonstandard' || kind === 'multisig') return 'unknown';
  if (kind === 'unknown_witness') return 'unknown';
  if (kind === 'anchor') return 'anchor';
  return kind;
}

export function txJson(t: ChainTx): object {
  const { tx } = t;
  const coinbase = isCoinbase(tx);
  return {
    txid: tx.txid,
    version: tx.version,
    locktime: tx.lockTime,
    vin: tx.inputs.map((input, i) => ({
      txid: input.txid,
      vout: input.vout,
      prevout: coinbase ? null : outputJson(t.spent[i]!),
      scriptsig: toHex(input.scriptSig),
      scriptsig_asm: esploraAsm(input.scriptSig),
      ...(input.witness.length ? { witness: input.witness.map(toHex) } : {}),
      is_coinbase: coinbase,
      sequence: input.sequence,
    })),
    vout: tx.outputs.map(outputJson),
    size: tx.size,
    weight: tx.weight,
    sigops: 0,
    fee: Number(t.fee),
    status: txStatus(t.location),
  };
}

function blockJson(chain: Chain, block: Block): object {
  return {
    id: block.hash,
    height: block.height,
    version: block.version,
    timestamp: block.time,
    tx_count: block.txs.length,
    size: block.size,
    weight: block.weight,
    merkle_root: block.merkleRoot,
    previousblockhash: block.height === 0 ? null : block.prevHash,
    mediantime: chain.medianTimePast(block.height),
    nonce: block.nonce,
    bits: block.bits,
    difficulty: 4.656542373906925e-10,
  };
}

function blockStatus(chain: Chain, block: Block): object {
  if (!chain.isActive(block.hash)) return { in_best_chain: false };
  return {
    in_best_chain: true,
    height: block.height,
    next_best: chain.getBlock(block.height + 1)?.hash ?? null,
  };
}

/** /blocks[/:start_height]: the ten blocks ending at start_height, newest first. */
function recentBlocks(chain: Chain, start: number): object {
  const blocks: object[] = [];
  for (let h = Math.min(start, chain.tipHeight); h >= 0 && blocks.length < 10; h--)
    blocks.push(blockJson(chain, chain.getBlock(h)!));
  return blocks;
}

function mempoolInfo(chain: Chain): object {
  let vsize = 0;
  let fee = 0n;
  for (const e of chain.mempool.entries.values()) {
    vsize += e.tx.vsize;
    fee += e.fee;
  }
  return { count: chain.mempool.entries.size, vsize, total_fee: Number(fee), fee_histogram: [] };
}

function mempoolRecent(chain: Chain): object {
  return chain.mempool
    .ordered()
    .reverse()
    .slice(0, 10)
    .map((e) => ({
      txid: e.tx.txid,
      fee: Number(e.fee),
      vsize: e.tx.vsize,
      value: Number(e.tx.outputs.reduce((n, o) => n + o.value, 0n)),
    }));
}
