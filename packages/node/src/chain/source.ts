// One interface for everything the node asks of the Bitcoin chain, with two implementations:
// an Esplora REST client (esplora.ts) and a bitcoind JSON-RPC client (bitcoind.ts). The chain
// source is fully trusted by LDK (it checks no proof of work): this file is a security boundary,
// so every answer is validated before it is believed.
import { ChainError } from './errors.ts';

export type BitcoinNetwork = 'mainnet' | 'testnet' | 'testnet4' | 'signet' | 'regtest';

/** Genesis block hashes (display hex). Custom regtest chains have their own; see networkFromGenesis. */
export const GENESIS_HASH: Readonly<Record<Exclude<BitcoinNetwork, 'regtest'>, string>> = {
  mainnet: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
  testnet: '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943',
  testnet4: '00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043',
  signet: '00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6',
};

/**
 * The network a genesis hash belongs to. Every regtest chain (bitcoind's default one, or a
 * simulator's) is regtest: only the public networks have a fixed genesis, so an unknown genesis
 * can never be mistaken for mainnet.
 */
export function networkFromGenesis(genesisHash: string): BitcoinNetwork {
  for (const [network, hash] of Object.entries(GENESIS_HASH))
    if (hash === genesisHash) return network as BitcoinNetwork;
  return 'regtest';
}

/** Throw `WRONG_NETWORK` unless the source serves `expected`: the LSP and wallet refuse to start. */
export async function assertNetwork(source: ChainSource, expected: BitcoinNetwork): Promise<void> {
  const actual = await source.network();
  if (actual !== expected)
    throw new ChainError(
      'WRONG_NETWORK',
      `chain source serves ${actual}, this node is configured for ${expected}`,
    );
}

export interface BlockRef {
  /** Block hash, display hex. */
  hash: string;
  height: number;
}

export type TxStatus = { confirmed: false } | { confirmed: true; blockHash: string; height: number };

export interface TxConfirmation {
  blockHash: string;
  height: number;
  /** Index of the transaction in its block (what LDK's `transactions_confirmed` wants). */
  position: number;
  /** Esplora: the merkle branch (display hex, leaf upwards) proving the position; checked.ts checks it. */
  merkle?: string[];
}

export type Outspend =
  | { spent: false }
  /** `vin` is the spending input's index; `status` whether the spender is confirmed. */
  | { spent: true; txid: string; vin: number; status: TxStatus };

/** Fee rates in sat per 1000 weight units, keyed by confirmation target in blocks. */
export type FeeRates = Map<number, number>;

/**
 * Everything the chain layer reads from or sends to the Bitcoin network. Hashes and txids are
 * display-order hex strings (the order explorers show); conversion to LDK's internal byte order
 * happens in sync.ts only.
 */
export interface ChainSource {
  readonly kind: 'esplora' | 'bitcoind';
  /** Which network the source serves (from its genesis block or getblockchaininfo). */
  network(): Promise<BitcoinNetwork>;
  /** The best block. */
  tip(): Promise<BlockRef>;
  /** Hash of the best-chain block at `height`, or null if the chain is shorter. */
  blockHash(height: number): Promise<string | null>;
  /** The 80-byte header of a block; its hash is checked against `hash`. */
  header(hash: string): Promise<Uint8Array>;
  /** The raw block (header + transactions); its header hash is checked against `hash`. */
  block(hash: string): Promise<Uint8Array>;
  /** Whether a transaction is confirmed, in mempool (`confirmed: false`), or unknown (null). */
  txStatus(txid: string): Promise<TxStatus | null>;
  /** Block, height and position of a confirmed transaction; null when unconfirmed or unknown. */
  txConfirmation(txid: string): Promise<TxConfirmation | null>;
  /** The raw transaction, or null when unknown. Its txid is checked. */
  rawTx(txid: string): Promise<Uint8Array | null>;
  /** Whether output `vout` of `txid` is spent, and by what (mempool included). */
  outspend(txid: string, vout: number): Promise<Outspend>;
  /** Hand a raw transaction to the network. Resolves with its txid; `REJECTED` carries the reason. */
  broadcast(rawTx: Uint8Array): Promise<string>;
  /** Fee-rate estimates in sat/kW by target blocks; may be empty (e.g. a fresh regtest). */
  feeRates(): Promise<FeeRates>;
}

/** sat/vB (Esplora) to sat per 1000 weight units (LDK): 1 vB = 4 WU. */
export const satPerVbToSatPerKw = (satPerVb: number): number => Math.round(satPerVb * 250);

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** How chain and wallet code report what they cannot throw (async work, LDK callbacks). */
export type ChainLog = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;
export const silentLog: ChainLog = () => {};

export interface HttpOptions {
  /** Per-request timeout; default 15 s. */
  timeoutMs?: number;
  /** Injected for tests or proxies; defaults to the global fetch (browsers, Node ≥ 18, workers). */
  fetch?: typeof fetch;
}

export interface HttpResponse {
  status: number;
  body: Uint8Array;
}

/**
 * fetch with a timeout covering the whole body; network failures become `UNREACHABLE`. A GET whose
 * connection was reset is sent once more: a keep-alive socket that the server closed while this
 * process was busy resets when reused, and a GET is safe to repeat.
 */
export async function httpRequest(url: string, init: RequestInit, opts: HttpOptions): Promise<HttpResponse> {
  try {
    return await httpAttempt(url, init, opts);
  } catch (error) {
    if ((init.method ?? 'GET') !== 'GET' || !isConnectionReset(error)) throw error;
    return httpAttempt(url, init, opts);
  }
}

function isConnectionReset(error: unknown): boolean {
  // ChainError ← fetch's TypeError ← the socket error carrying the code
  let cause: unknown = error;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') return true;
    cause = cause.cause;
  }
  return false;
}

async function httpAttempt(url: string, init: RequestInit, opts: HttpOptions): Promise<HttpResponse> {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs ?? 15_000);
  try {
    const res = await doFetch(url, { ...init, signal: controller.signal });
    return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
  } catch (cause) {
    throw new ChainError('UNREACHABLE', `${init.method ?? 'GET'} ${redact(url)} failed: ${String(cause)}`, {
      cause,
    });
  } finally {
    clearTimeout(timer);
  }
}

/** Drop credentials from a URL before it goes into an error message or log. */
export function redact(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//***@');
}
