// bitcoind JSON-RPC client: the LSP's production chain source. Needs no bitcoind wallet.
// Limitations (documented where they bite): txStatus/txConfirmation/rawTx of confirmed
// transactions need `txindex=1` (without it bitcoind only knows mempool transactions);
// outspend of a spent output scans blocks from the funding block to the tip. ChainSync does not
// depend on either: for bitcoind it scans blocks.

import {
  assertHashHex,
  assertHeight,
  bytesToHex,
  describe,
  headerHash,
  hexToBytes,
  parseBlock,
  parseTxIo,
  txidOf,
} from './bytes.ts';
import { ChainError } from './errors.ts';
import {
  type BitcoinNetwork,
  type BlockRef,
  type ChainSource,
  type FeeRates,
  type HttpOptions,
  httpRequest,
  type Outspend,
  redact,
  type TxConfirmation,
  type TxStatus,
} from './source.ts';

export interface BitcoindOptions extends HttpOptions {
  /** RPC URL, e.g. `http://127.0.0.1:8332`; credentials in the URL are moved to the auth header. */
  url: string;
  /** rpcuser/rpcpassword, or the contents of `.cookie` as `user:password`. */
  auth?: { user: string; password: string } | string;
  /** Targets asked of estimatesmartfee; default 1, 3, 6, 12, 144, 1008 blocks. */
  feeTargets?: number[];
}

/** bitcoind JSON-RPC error codes we map to typed errors. */
const RPC_VERIFY_ERROR = -25;
const RPC_VERIFY_REJECTED = -26;
const RPC_VERIFY_ALREADY_IN_CHAIN = -27;
const RPC_INVALID_ADDRESS_OR_KEY = -5;
const RPC_INVALID_PARAMETER = -8;

const CHAIN_NAMES: Record<string, BitcoinNetwork> = {
  main: 'mainnet',
  test: 'testnet',
  testnet4: 'testnet4',
  signet: 'signet',
  regtest: 'regtest',
};

class RpcError extends Error {
  constructor(
    readonly rpcCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * bitcoind chain source.
 * @example
 * const source = bitcoindSource({ url: 'http://127.0.0.1:8332', auth: { user: 'lsp', password } });
 * await assertNetwork(source, 'mainnet');
 */
export function bitcoindSource(opts: BitcoindOptions): BitcoindSource {
  return new BitcoindSource(opts);
}

export class BitcoindSource implements ChainSource {
  readonly kind = 'bitcoind' as const;
  private readonly url: string;
  private readonly authHeader: string | undefined;
  private nextId = 1;

  constructor(private readonly opts: BitcoindOptions) {
    const u = new URL(opts.url);
    let auth = opts.auth;
    if (auth === undefined && u.username)
      auth = { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
    u.username = '';
    u.password = '';
    this.url = u.toString();
    const pair = typeof auth === 'string' ? auth : auth ? `${auth.user}:${auth.password}` : undefined;
    this.authHeader = pair === undefined ? undefined : `Basic ${btoa(pair)}`;
  }

  /** One JSON-RPC call; RPC errors surface as RpcError for the callers to map. */
  private async call(method: string, params: unknown[]): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.authHeader) headers.authorization = this.authHeader;
    const id = this.nextId++;
    const res = await httpRequest(
      this.url,
      { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '1.0', id, method, params }) },
      this.opts,
    );
    if (res.status === 401 || res.status === 403)
      throw new ChainError('UNAUTHORIZED', `bitcoind at ${redact(this.url)} refused the credentials`);
    const text = new TextDecoder().decode(res.body);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      const code = res.status >= 500 ? 'UNREACHABLE' : 'BAD_RESPONSE';
      throw new ChainError(code, `${method}: HTTP ${res.status}, not JSON: ${describe(text)}`);
    }
    if (!body || typeof body !== 'object')
      throw new ChainError('BAD_RESPONSE', `${method}: not a JSON-RPC reply`);
    const reply = body as { result?: unknown; error?: { code?: unknown; message?: unknown } | null };
    if (reply.error) {
      const code = typeof reply.error.code === 'number' ? reply.error.code : 0;
      const message = typeof reply.error.message === 'string' ? reply.error.message : describe(reply.error);
      throw new RpcError(code, message);
    }
    if (!('result' in reply)) throw new ChainError('BAD_RESPONSE', `${method}: reply without result`);
    return reply.result;
  }

  /** call() with every RPC error turned into a ChainError; `notFound` codes become null. */
  private async rpc(method: string, params: unknown[], notFound: number[] = []): Promise<unknown> {
    try {
      return await this.call(method, params);
    } catch (e) {
      if (!(e instanceof RpcError)) throw e;
      if (notFound.includes(e.rpcCode)) return null;
      throw new ChainError('RPC_ERROR', `${method}: ${e.message} (code ${e.rpcCode})`, { cause: e });
    }
  }

  async network(): Promise<BitcoinNetwork> {
    const info = obj(await this.rpc('getblockchaininfo', []), 'getblockchaininfo');
    const network = typeof info.chain === 'string' ? CHAIN_NAMES[info.chain] : undefined;
    if (!network) throw new ChainError('BAD_RESPONSE', `unknown chain ${describe(info.chain)}`);
    return network;
  }

  async tip(): Promise<BlockRef> {
    const hash = assertHashHex(await this.rpc('getbestblockhash', []), 'best block hash');
    const header = await this.rpc('getblockheader', [hash, true], [RPC_INVALID_ADDRESS_OR_KEY]);
    if (header === null) throw new ChainError('UNREACHABLE', `tip ${hash} vanished`);
    return { hash, height: assertHeight(obj(header, 'getblockheader').height, 'height') };
  }

  async blockHash(height: number): Promise<string | null> {
    const hash = await this.rpc('getblockhash', [height], [RPC_INVALID_PARAMETER]);
    return hash === null ? null : assertHashHex(hash, 'block hash');
  }

  async header(hash: string): Promise<Uint8Array> {
    const text = await this.rpc('getblockheader', [hash, false], [RPC_INVALID_ADDRESS_OR_KEY]);
    if (text === null) throw new ChainError('NOT_FOUND', `header ${hash}`);
    const header = hexToBytes(str(text, 'header'), 'header');
    if (header.length !== 80 || headerHash(header) !== hash)
      throw new ChainError('BAD_RESPONSE', `header for ${hash} does not hash to it`);
    return header;
  }

  async block(hash: string): Promise<Uint8Array> {
    const text = await this.rpc('getblock', [hash, 0], [RPC_INVALID_ADDRESS_OR_KEY]);
    if (text === null) throw new ChainError('NOT_FOUND', `block ${hash}`);
    const raw = hexToBytes(str(text, 'block'), 'block');
    if (parseBlock(raw).hash !== hash)
      throw new ChainError('BAD_RESPONSE', `block for ${hash} does not hash to it`);
    return raw;
  }

  /** getrawtransaction verbose; null when bitcoind does not know the tx (or has no txindex). */
  private async verboseTx(txid: string): Promise<Record<string, unknown> | null> {
    const tx = await this.rpc('getrawtransaction', [txid, true], [RPC_INVALID_ADDRESS_OR_KEY]);
    return tx === null ? null : obj(tx, 'getrawtransaction');
  }

  async txStatus(txid: string): Promise<TxStatus | null> {
    const tx = await this.verboseTx(txid);
    if (tx === null) return null;
    if (typeof tx.blockhash !== 'string' || !(typeof tx.confirmations === 'number' && tx.confirmations > 0))
      return { confirmed: false };
    const blockHash = assertHashHex(tx.blockhash, 'blockhash');
    const header = await this.rpc('getblockheader', [blockHash, true], [RPC_INVALID_ADDRESS_OR_KEY]);
    if (header === null) return { confirmed: false };
    const h = obj(header, 'getblockheader');
    // a block off the best chain has confirmations -1
    if (typeof h.confirmations === 'number' && h.confirmations < 1) return { confirmed: false };
    return { confirmed: true, blockHash, height: assertHeight(h.height, 'height') };
  }

  async txConfirmation(txid: string): Promise<TxConfirmation | null> {
    const status = await this.txStatus(txid);
    if (status === null || !status.confirmed) return null;
    const block = await this.rpc('getblock', [status.blockHash, 1], [RPC_INVALID_ADDRESS_OR_KEY]);
    if (block === null) return null;
    const txids = obj(block, 'getblock').tx;
    if (!Array.isArray(txids)) throw new ChainError('BAD_RESPONSE', 'getblock without tx list');
    const position = txids.indexOf(txid);
    if (position < 0)
      throw new ChainError('BAD_RESPONSE', `block ${status.blockHash} does not contain ${txid}`);
    return { blockHash: status.blockHash, height: status.height, position };
  }

  async rawTx(txid: string): Promise<Uint8Array | null> {
    const text = await this.rpc('getrawtransaction', [txid, false], [RPC_INVALID_ADDRESS_OR_KEY]);
    if (text === null) return null;
    const raw = hexToBytes(str(text, 'raw tx'), 'raw tx');
    if (txidOf(raw) !== txid) throw new ChainError('BAD_RESPONSE', `raw tx for ${txid} has another txid`);
    return raw;
  }

  /**
   * gettxout says whether the output is unspent (mempool included). When it is spent, the spender
   * is found in the mempool or by scanning blocks from the one that confirmed `txid` (needs txindex
   * to locate it) up to the tip. Meant for occasional use; ChainSync scans blocks instead.
   */
  async outspend(txid: string, vout: number): Promise<Outspend> {
    const utxo = await this.rpc('gettxout', [txid, vout, true]);
    if (utxo !== null) return { spent: false };
    const status = await this.txStatus(txid);
    if (status === null) throw new ChainError('NOT_FOUND', `tx ${txid}`);
    const mempool = await this.rpc('getrawmempool', []);
    if (!Array.isArray(mempool)) throw new ChainError('BAD_RESPONSE', 'getrawmempool: expected an array');
    for (const id of mempool) {
      const raw = await this.rawTx(assertHashHex(id, 'mempool txid'));
      const vin = raw ? spendingInput(raw, txid, vout) : -1;
      if (raw && vin >= 0) return { spent: true, txid: txidOf(raw), vin, status: { confirmed: false } };
    }
    if (!status.confirmed) throw new ChainError('NOT_FOUND', `spender of ${txid}:${vout}`);
    const tip = await this.tip();
    for (let height = status.height; height <= tip.height; height++) {
      const hash = await this.blockHash(height);
      if (hash === null) break;
      for (const raw of parseBlock(await this.block(hash)).txs) {
        const vin = spendingInput(raw, txid, vout);
        if (vin >= 0)
          return {
            spent: true,
            txid: txidOf(raw),
            vin,
            status: { confirmed: true, blockHash: hash, height },
          };
      }
    }
    throw new ChainError('NOT_FOUND', `spender of ${txid}:${vout}`);
  }

  async broadcast(rawTx: Uint8Array): Promise<string> {
    const expected = txidOf(rawTx);
    try {
      const txid = assertHashHex(await this.call('sendrawtransaction', [bytesToHex(rawTx)]), 'txid');
      if (txid !== expected)
        throw new ChainError('BAD_RESPONSE', `sendrawtransaction answered ${txid}, expected ${expected}`);
      return txid;
    } catch (e) {
      if (!(e instanceof RpcError)) throw e;
      if ([RPC_VERIFY_ERROR, RPC_VERIFY_REJECTED, RPC_VERIFY_ALREADY_IN_CHAIN, -22].includes(e.rpcCode))
        throw new ChainError('REJECTED', `tx ${expected} rejected: ${e.message}`, {
          rejectReason: e.message,
          cause: e,
        });
      throw new ChainError('RPC_ERROR', `sendrawtransaction: ${e.message} (code ${e.rpcCode})`, { cause: e });
    }
  }

  async feeRates(): Promise<FeeRates> {
    const rates: FeeRates = new Map();
    for (const target of this.opts.feeTargets ?? [1, 3, 6, 12, 144, 1008]) {
      const est = obj(await this.rpc('estimatesmartfee', [target]), 'estimatesmartfee');
      // no `feerate` means "not enough data" (fresh regtest, just started): leave the target out
      if (typeof est.feerate !== 'number' || !Number.isFinite(est.feerate) || est.feerate <= 0) continue;
      // BTC per 1000 vB → sat per 1000 WU: × 1e8 sat/BTC ÷ 4 WU/vB
      rates.set(target, Math.round((est.feerate * 1e8) / 4));
    }
    return rates;
  }
}

/** Index of the input of `raw` that spends `txid:vout`, or -1. */
function spendingInput(raw: Uint8Array, txid: string, vout: number): number {
  return parseTxIo(raw).inputs.findIndex((i) => i.txid === txid && i.vout === vout);
}

function obj(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ChainError('BAD_RESPONSE', `${what}: expected an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string')
    throw new ChainError('BAD_RESPONSE', `${what}: expected a string, got ${describe(value)}`);
  return value;
}
