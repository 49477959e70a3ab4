// Transaction codec and script helpers shared by the chain, the mempool and the servers:
// decoding raw bytes, txid/wtxid/weight, script classification, addresses and asm.
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import { Address, OP, OutScript, RawTx } from '@scure/btc-signer';
import { DevnetError } from './errors.ts';

/** Regtest parameters: bech32 HRP `bcrt`, base58 prefixes as bitcoind's -regtest. */
export const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef } as const;

export const sha256d = (bytes: Uint8Array): Uint8Array => sha256(sha256(bytes));
/** Hashes are kept internally in display (RPC) byte order; consensus bytes are the reverse. */
export const reverse = (bytes: Uint8Array): Uint8Array => Uint8Array.from(bytes).reverse();
export const toHex = (bytes: Uint8Array): string => hex.encode(bytes);

export const NULL_TXID = '0'.repeat(64);

export interface TxInput {
  txid: string; // display order
  vout: number;
  scriptSig: Uint8Array;
  sequence: number;
  witness: Uint8Array[];
}
export interface TxOutput {
  value: bigint; // sats
  script: Uint8Array;
}
/** A decoded transaction with the identifiers and sizes every consumer needs. */
export interface Tx {
  txid: string;
  wtxid: string;
  version: number;
  lockTime: number;
  inputs: TxInput[];
  outputs: TxOutput[];
  raw: Uint8Array;
  size: number;
  strippedSize: number;
  weight: number;
  vsize: number;
  hasWitness: boolean;
}

export function isHexString(s: unknown): s is string {
  return typeof s === 'string' && s.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(s);
}

/** Decode a serialized transaction; throws DevnetError('TX_DECODE') on anything malformed. */
export function decodeTx(raw: Uint8Array): Tx {
  let parsed: ReturnType<typeof RawTx.decode>;
  try {
    parsed = RawTx.decode(raw);
  } catch (e) {
    throw new DevnetError('TX_DECODE', `TX decode failed: ${(e as Error).message}`);
  }
  const witnesses = parsed.witnesses ?? [];
  const inputs: TxInput[] = parsed.inputs.map((input, i) => ({
    txid: toHex(input.txid),
    vout: input.index,
    scriptSig: input.finalScriptSig,
    sequence: input.sequence,
    witness: witnesses[i] ?? [],
  }));
  const outputs: TxOutput[] = parsed.outputs.map((o) => ({ value: o.amount, script: o.script }));
  const hasWitness = inputs.some((i) => i.witness.length > 0);
  // Re-encode canonically: a segwit flag with all-empty witnesses is invalid serialization.
  if (parsed.segwitFlag && !hasWitness)
    throw new DevnetError('TX_DECODE', 'TX decode failed: superfluous witness');
  const stripped = RawTx.encode({ ...parsed, segwitFlag: false, witnesses: undefined });
  const full = hasWitness ? RawTx.encode(parsed) : stripped;
  if (full.length !== raw.length) throw new DevnetError('TX_DECODE', 'TX decode failed: trailing bytes');
  const weight = stripped.length * 3 + full.length;
  return {
    txid: toHex(reverse(sha256d(stripped))),
    wtxid: toHex(reverse(sha256d(full))),
    version: parsed.version,
    lockTime: parsed.lockTime,
    inputs,
    outputs,
    raw: full,
    size: full.length,
    strippedSize: stripped.length,
    weight,
    vsize: Math.ceil(weight / 4),
    hasWitness,
  };
}

/** Serialize a transaction from its parts (used for coinbases and by the faucet). */
export function encodeTx(tx: {
  version: number;
  lockTime: number;
  inputs: TxInput[];
  outputs: TxOutput[];
}): Uint8Array {
  const hasWitness = tx.inputs.some((i) => i.witness.length > 0);
  return RawTx.encode({
    version: tx.version,
    segwitFlag: hasWitness,
    inputs: tx.inputs.map((i) => ({
      txid: hex.decode(i.txid),
      index: i.vout,
      finalScriptSig: i.scriptSig,
      sequence: i.sequence,
    })),
    outputs: tx.outputs.map((o) => ({ amount: o.value, script: o.script })),
    witnesses: hasWitness ? tx.inputs.map((i) => i.witness) : undefined,
    lockTime: tx.lockTime,
  });
}

export const isCoinbase = (tx: Tx): boolean =>
  tx.inputs.length === 1 && tx.inputs[0]!.txid === NULL_TXID && tx.inputs[0]!.vout === 0xffffffff;

export type ScriptKind =
  | 'p2pkh'
  | 'p2sh'
  | 'v0_p2wpkh'
  | 'v0_p2wsh'
  | 'v1_p2tr'
  | 'op_return'
  | 'p2pk'
  | 'multisig'
  | 'anchor'
  | 'unknown_witness'
  | 'nonstandard';

/** Classify an output script the way bitcoind's Solver does (the subset we need). */
export function scriptKind(s: Uint8Array): ScriptKind {
  const n = s.length;
  if (n === 25 && s[0] === 0x76 && s[1] === 0xa9 && s[2] === 0x14 && s[23] === 0x88 && s[24] === 0xac)
    return 'p2pkh';
  if (n === 23 && s[0] === 0xa9 && s[1] === 0x14 && s[22] === 0x87) return 'p2sh';
  if (n === 22 && s[0] === 0x00 && s[1] === 0x14) return 'v0_p2wpkh';
  if (n === 34 && s[0] === 0x00 && s[1] === 0x20) return 'v0_p2wsh';
  if (n === 34 && s[0] === 0x51 && s[1] === 0x20) return 'v1_p2tr';
  if (n === 4 && s[0] === 0x51 && s[1] === 0x02 && s[2] === 0x4e && s[3] === 0x73) return 'anchor';
  if (n >= 1 && s[0] === 0x6a) return 'op_return';
  if ((n === 35 && s[0] === 0x21 && s[34] === 0xac) || (n === 67 && s[0] === 0x41 && s[66] === 0xac))
    return 'p2pk';
  if (n >= 4 && n <= 42 && (s[0] === 0x00 || (s[0]! >= 0x51 && s[0]! <= 0x60)) && s[1] === n - 2) {
    return 'unknown_witness';
  }
  if (n >= 37 && s[n - 1] === 0xae && s[0]! >= 0x51 && s[0]! <= 0x53) return 'multisig';
  return 'nonstandard';
}

/** The regtest address of an output script, or undefined when it has none. */
export function scriptAddress(script: Uint8Array): string | undefined {
  const kind = scriptKind(script);
  if (kind === 'op_return' || kind === 'nonstandard' || kind === 'p2pk' || kind === 'multisig')
    return undefined;
  try {
    return Address(REGTEST).encode(OutScript.decode(script));
  } catch {
    return undefined;
  }
}

/** Output script for a regtest address; throws DevnetError('INVALID_ADDRESS'). */
export function addressScript(address: string): Uint8Array {
  try {
    return OutScript.encode(Address(REGTEST).decode(address));
  } catch (e) {
    throw new DevnetError('INVALID_ADDRESS', `Invalid address ${address}: ${(e as Error).message}`);
  }
}

/** Esplora's scripthash: sha256 of the script, not reversed. */
export const scriptHash = (script: Uint8Array): string => toHex(sha256(script));

interface ScriptOp {
  op: number;
  data?: Uint8Array;
}

/** Split a script into opcodes and pushes; undefined if a push runs past the end. */
export function parseScript(s: Uint8Array): ScriptOp[] | undefined {
  const ops: ScriptOp[] = [];
  let i = 0;
  while (i < s.length) {
    const op = s[i++]!;
    let len = -1;
    if (op >= 0x01 && op <= 0x4b) len = op;
    else if (op === 0x4c) len = s[i++] ?? -2;
    else if (op === 0x4d) {
      len = (s[i] ?? 0) | ((s[i + 1] ?? 0) << 8);
      i += 2;
    } else if (op === 0x4e) {
      len = ((s[i] ?? 0) | ((s[i + 1] ?? 0) << 8) | ((s[i + 2] ?? 0) << 16) | ((s[i + 3] ?? 0) << 24)) >>> 0;
      i += 4;
    }
    if (len === -1) {
      ops.push({ op });
      continue;
    }
    if (len < 0 || i + len > s.length) return undefined;
    ops.push({ op, data: s.subarray(i, i + len) });
    i += len;
  }
  return ops;
}

const OP_NAMES: Record<number, string> = {};
for (const [name, code] of Object.entries(OP)) {
  if (typeof code === 'number' && OP_NAMES[code] === undefined) OP_NAMES[code] = `OP_${name}`;
}
const opName = (op: number): string => {
  if (op === 0xb1) return 'OP_CHECKLOCKTIMEVERIFY';
  if (op === 0xb2) return 'OP_CHECKSEQUENCEVERIFY';
  return OP_NAMES[op] ?? 'OP_UNKNOWN';
};

/** bitcoind-style asm: small numbers as decimals, pushes as hex. */
export function bitcoindAsm(s: Uint8Array): string {
  const ops = parseScript(s);
  if (!ops) return '[error]';
  return ops
    .map(({ op, data }) => {
      if (data) return toHex(data);
      if (op === 0x00) return '0';
      if (op === 0x4f) return '-1';
      if (op >= 0x51 && op <= 0x60) return String(op - 0x50);
      return opName(op);
    })
    .join(' ');
}

/** Esplora (rust-bitcoin) asm: OP_PUSHBYTES_n / OP_PUSHNUM_n spelled out. */
export function esploraAsm(s: Uint8Array): string {
  const ops = parseScript(s);
  if (!ops) return '[error]';
  return ops
    .map(({ op, data }) => {
      if (data) {
        const name =
          op <= 0x4b ? `OP_PUSHBYTES_${op}` : `OP_PUSHDATA${op === 0x4c ? 1 : op === 0x4d ? 2 : 4}`;
        return data.length ? `${name} ${toHex(data)}` : name;
      }
      if (op === 0x00) return 'OP_0';
      if (op === 0x4f) return 'OP_PUSHNUM_NEG1';
      if (op >= 0x51 && op <= 0x60) return `OP_PUSHNUM_${op - 0x50}`;
      if (op === 0xb1) return 'OP_CLTV';
      if (op === 0xb2) return 'OP_CSV';
      return opName(op);
    })
    .join(' ');
}

/** Minimal CScriptNum push as bitcoind's `CScript() << n` (OP_0, OP_1..OP_16, else LE sign-magnitude). */
export function pushNumber(n: number): Uint8Array {
  if (n === 0) return Uint8Array.of(0x00);
  if (n >= 1 && n <= 16) return Uint8Array.of(0x50 + n);
  const bytes: number[] = [];
  let v = n;
  while (v > 0) {
    bytes.push(v & 0xff);
    v = Math.floor(v / 256);
  }
  if (bytes[bytes.length - 1]! & 0x80) bytes.push(0x00);
  return Uint8Array.of(bytes.length, ...bytes);
}

export const concatBytes = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** Sats to a BTC number as bitcoind prints amounts (8 decimals, exact for < 2^53 sats). */
export const satsToBtc = (sats: bigint): number => Number(sats) / 1e8;
