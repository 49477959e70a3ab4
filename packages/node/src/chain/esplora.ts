// Esplora REST client (Blockstream's esplora / electrs, mempool.space): the chain source of the
// wallet in the browser and an option for the LSP. Every answer is validated before use.

import {
  assertHashHex,
  assertHeight,
  bytesToHex,
  describe,
  headerHash,
  hexToBytes,
  parseBlock,
  txidOf,
} from './bytes.ts';
import { ChainError } from './errors.ts';
import { type BlockHeader, decodeHeader, encodeHeader } from './headers.ts';
import {
  type BitcoinNetwork,
  type BlockRef,
  type ChainSource,
  type FeeRates,
  type HttpOptions,
  httpRequest,
  networkFromGenesis,
  type Outspend,
  redact,
  satPerVbToSatPerKw,
  type TxConfirmation,
  type TxStatus,
} from './source.ts';

export interface EsploraOptions extends HttpOptions {
  /** Base URL of the API, e.g. `https://blockstream.info/api` (no trailing slash needed). */
  url: string;
}

/** One transaction of an address/scripthash history, as the wallet needs it. */
export interface EsploraTx {
  txid: string;
  status: TxStatus;
  inputs: { txid: string; vout: number; prevoutScriptHex: string | null; prevoutValueSat: bigint | null }[];
  outputs: { scriptHex: string; valueSat: bigint }[];
  feeSat: bigint;
  weight: number;
}

const decoder = new TextDecoder();

/**
 * Esplora chain source.
 * @example
 * const source = esploraSource({ url: 'https://blockstream.info/testnet/api' });
 * await assertNetwork(source, 'testnet');
 */
export function esploraSource(opts: EsploraOptions): EsploraSource {
  return new EsploraSource(opts);
}

export class EsploraSource implements ChainSource {
  readonly kind = 'esplora' as const;
  private readonly base: string;

  constructor(private readonly opts: EsploraOptions) {
    this.base = opts.url.replace(/\/+$/, '');
  }

  /** GET returning the body, or null on 404. */
  private async get(path: string): Promise<Uint8Array | null> {
    const res = await httpRequest(`${this.base}${path}`, { method: 'GET' }, this.opts);
    if (res.status === 404) return null;
    if (res.status !== 200) {
      const text = decoder.decode(res.body).slice(0, 200);
      const code = res.status >= 500 ? 'UNREACHABLE' : 'BAD_RESPONSE';
      throw new ChainError(code, `GET ${redact(this.base)}${path} → HTTP ${res.status}: ${text}`);
    }
    return res.body;
  }

  private async getText(path: string): Promise<string | null> {
    const body = await this.get(path);
    return body === null ? null : decoder.decode(body).trim();
  }

  private async getJson(path: string): Promise<unknown> {
    const text = await this.getText(path);
    if (text === null) return null;
    try {
      return JSON.parse(text);
    } catch {
      throw new ChainError('BAD_RESPONSE', `GET ${path}: not JSON: ${describe(text)}`);
    }
  }

  private async must<T>(what: string, value: Promise<T | null>): Promise<T> {
    const v = await value;
    if (v === null) throw new ChainError('NOT_FOUND', what);
    return v;
  }

  async network(): Promise<BitcoinNetwork> {
    const genesis = await this.must('genesis block', this.getText('/block-height/0'));
    return networkFromGenesis(assertHashHex(genesis, 'genesis hash'));
  }

  async tip(): Promise<BlockRef> {
    const hash = assertHashHex(await this.must('tip', this.getText('/blocks/tip/hash')), 'tip hash');
    const status = obj(
      await this.must(`block ${hash}`, this.getJson(`/block/${hash}/status`)),
      'block status',
    );
    // the tip can move between the two requests; a block that left the best chain is retried by the caller
    if (status.in_best_chain !== true) throw new ChainError('UNREACHABLE', `tip ${hash} left the best chain`);
    return { hash, height: assertHeight(status.height, 'block height') };
  }

  async blockHash(height: number): Promise<string | null> {
    const text = await this.getText(`/block-height/${height}`);
    return text === null ? null : assertHashHex(text, 'block hash');
  }

  async header(hash: string): Promise<Uint8Array> {
    const text = await this.must(`header ${hash}`, this.getText(`/block/${hash}/header`));
    const header = hexToBytes(text, 'header');
    if (header.length !== 80 || headerHash(header) !== hash)
      throw new ChainError('BAD_RESPONSE', `header for ${hash} does not hash to it`);
    return header;
  }

  /**
   * Up to ten headers ending at `height`, newest first (`GET /blocks/:height`), each rebuilt from
   * its fields and checked to hash to the id served beside it. Ten headers per request: what
   * makes fetching a header chain affordable.
   */
  async headersDown(height: number): Promise<BlockHeader[]> {
    const list = await this.must(`blocks at ${height}`, this.getJson(`/blocks/${height}`));
    if (!Array.isArray(list)) throw new ChainError('BAD_RESPONSE', `blocks at ${height}: expected an array`);
    return list.map((item) => {
      const b = obj(item, 'block');
      const blockHeight = assertHeight(b.height, 'block height');
      const raw = encodeHeader({
        version: u32(b.version, 'block version'),
        prevHash:
          b.previousblockhash === null && blockHeight === 0
            ? ZERO_HASH
            : assertHashHex(b.previousblockhash, 'previousblockhash'),
        merkleRoot: assertHashHex(b.merkle_root, 'merkle_root'),
        time: u32(b.timestamp, 'block timestamp'),
        bits: u32(b.bits, 'block bits'),
        nonce: u32(b.nonce, 'block nonce'),
      });
      const header = decodeHeader(raw, blockHeight);
      if (header.hash !== assertHashHex(b.id, 'block id'))
        throw new ChainError(
          'BAD_RESPONSE',
          `block ${blockHeight}: fields do not hash to its id ${String(b.id)}`,
        );
      return header;
    });
  }

  async block(hash: string): Promise<Uint8Array> {
    const raw = await this.must(`block ${hash}`, this.get(`/block/${hash}/raw`));
    if (parseBlock(raw).hash !== hash)
      throw new ChainError('BAD_RESPONSE', `block for ${hash} does not hash to it`);
    return raw;
  }

  async txStatus(txid: string): Promise<TxStatus | null> {
    const json = await this.getJson(`/tx/${txid}/status`);
    return json === null ? null : parseStatus(json);
  }

  async txConfirmation(txid: string): Promise<TxConfirmation | null> {
    const status = await this.txStatus(txid);
    if (status === null || !status.confirmed) return null;
    const proof = await this.getJson(`/tx/${txid}/merkle-proof`);
    if (proof === null) return null; // reorged out between the two requests
    const p = obj(proof, 'merkle proof');
    const height = assertHeight(p.block_height, 'merkle-proof block_height');
    const position = assertHeight(p.pos, 'merkle-proof pos');
    // the proof and the status come from two requests; if they disagree the tx moved: say unconfirmed now
    if (height !== status.height) return null;
    const merkle = p.merkle;
    if (!Array.isArray(merkle))
      throw new ChainError('BAD_RESPONSE', 'merkle-proof: "merkle" expected an array');
    return {
      blockHash: status.blockHash,
      height,
      position,
      merkle: merkle.map((h) => assertHashHex(h, 'merkle-proof hash')),
    };
  }

  async rawTx(txid: string): Promise<Uint8Array | null> {
    const raw = await this.get(`/tx/${txid}/raw`);
    if (raw === null) return null;
    if (txidOf(raw) !== txid) throw new ChainError('BAD_RESPONSE', `raw tx for ${txid} has another txid`);
    return raw;
  }

  async outspend(txid: string, vout: number): Promise<Outspend> {
    const o = obj(await this.must(`tx ${txid}`, this.getJson(`/tx/${txid}/outspend/${vout}`)), 'outspend');
    if (o.spent !== true) return { spent: false };
    return {
      spent: true,
      txid: assertHashHex(o.txid, 'outspend txid'),
      vin: assertHeight(o.vin, 'outspend vin'),
      status: parseStatus(o.status),
    };
  }

  async broadcast(rawTx: Uint8Array): Promise<string> {
    const expected = txidOf(rawTx);
    const res = await httpRequest(
      `${this.base}/tx`,
      { method: 'POST', body: bytesToHex(rawTx), headers: { 'content-type': 'text/plain' } },
      this.opts,
    );
    const text = decoder.decode(res.body).trim();
    if (res.status === 200) {
      if (assertHashHex(text, 'broadcast txid') !== expected)
        throw new ChainError('BAD_RESPONSE', `broadcast answered txid ${text}, expected ${expected}`);
      return expected;
    }
    if (res.status >= 500 && !text) throw new ChainError('UNREACHABLE', `POST /tx → HTTP ${res.status}`);
    const reason = esploraRejectReason(text);
    throw new ChainError('REJECTED', `tx ${expected} rejected: ${reason}`, { rejectReason: reason });
  }

  async feeRates(): Promise<FeeRates> {
    const json = obj(await this.must('fee estimates', this.getJson('/fee-estimates')), 'fee estimates');
    const rates: FeeRates = new Map();
    for (const [target, satPerVb] of Object.entries(json)) {
      const blocks = Number(target);
      if (!Number.isSafeInteger(blocks) || blocks <= 0) continue;
      if (typeof satPerVb !== 'number' || !Number.isFinite(satPerVb) || satPerVb <= 0) continue;
      rates.set(blocks, satPerVbToSatPerKw(satPerVb));
    }
    return rates;
  }

  /**
   * Every transaction touching a script (mempool first, then confirmed newest first), paging
   * through Esplora's 25-per-page chain history. The wallet's sync.
   */
  async scriptHistory(scriptHashHex: string): Promise<EsploraTx[]> {
    const all: EsploraTx[] = [];
    let page = await this.getJson(`/scripthash/${scriptHashHex}/txs`);
    for (;;) {
      if (!Array.isArray(page)) throw new ChainError('BAD_RESPONSE', 'scripthash txs: expected an array');
      const txs = page.map(parseEsploraTx);
      all.push(...txs);
      const confirmed = txs.filter((t) => t.status.confirmed);
      // a full page of confirmed history (25) means there may be more
      if (confirmed.length < 25) return all;
      const last = confirmed[confirmed.length - 1]!.txid;
      page = await this.getJson(`/scripthash/${scriptHashHex}/txs/chain/${last}`);
    }
  }
}

/**
 * Esplora relays bitcoind's refusal as `sendrawtransaction RPC error: {"code":-26,"message":"…"}`;
 * keep bitcoind's message so both sources report the same reject string.
 */
export function esploraRejectReason(body: string): string {
  const start = body.indexOf('{');
  if (start >= 0) {
    try {
      const parsed: unknown = JSON.parse(body.slice(start));
      if (
        parsed &&
        typeof parsed === 'object' &&
        typeof (parsed as { message?: unknown }).message === 'string'
      )
        return (parsed as { message: string }).message;
    } catch {
      // not JSON after all: fall through to the raw text
    }
  }
  return body || 'rejected without a reason';
}

const ZERO_HASH = '0'.repeat(64);

function u32(value: unknown, what: string): number {
  // Esplora prints a version with the top bit set as a negative i32 on some builds
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -(2 ** 31) || value > 0xffffffff)
    throw new ChainError('BAD_RESPONSE', `"${what}" expected a 32-bit integer, got ${describe(value)}`);
  return value >>> 0;
}

function obj(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ChainError('BAD_RESPONSE', `${what}: expected an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

function parseStatus(value: unknown): TxStatus {
  const s = obj(value, 'tx status');
  if (s.confirmed !== true) return { confirmed: false };
  return {
    confirmed: true,
    blockHash: assertHashHex(s.block_hash, 'status block_hash'),
    height: assertHeight(s.block_height, 'status block_height'),
  };
}

function sat(value: unknown, what: string): bigint {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new ChainError('BAD_RESPONSE', `"${what}" expected sats, got ${describe(value)}`);
  return BigInt(value);
}

function parseEsploraTx(value: unknown): EsploraTx {
  const t = obj(value, 'tx');
  const vin = t.vin;
  const vout = t.vout;
  if (!Array.isArray(vin) || !Array.isArray(vout))
    throw new ChainError('BAD_RESPONSE', 'tx without vin/vout');
  return {
    txid: assertHashHex(t.txid, 'txid'),
    status: parseStatus(t.status),
    inputs: vin.map((i) => {
      const input = obj(i, 'vin');
      const prevout =
        input.prevout === null || input.prevout === undefined ? null : obj(input.prevout, 'prevout');
      return {
        txid: input.is_coinbase === true ? '0'.repeat(64) : assertHashHex(input.txid, 'vin txid'),
        vout: typeof input.vout === 'number' ? input.vout : 0xffffffff,
        prevoutScriptHex: prevout && typeof prevout.scriptpubkey === 'string' ? prevout.scriptpubkey : null,
        prevoutValueSat: prevout ? sat(prevout.value, 'prevout value') : null,
      };
    }),
    outputs: vout.map((o) => {
      const out = obj(o, 'vout');
      if (typeof out.scriptpubkey !== 'string')
        throw new ChainError('BAD_RESPONSE', 'vout without scriptpubkey');
      return { scriptHex: out.scriptpubkey.toLowerCase(), valueSat: sat(out.value, 'vout value') };
    }),
    feeSat: typeof t.fee === 'number' ? sat(t.fee, 'fee') : 0n,
    weight: typeof t.weight === 'number' ? t.weight : 0,
  };
}
