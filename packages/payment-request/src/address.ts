// On-chain addresses as text: the networks a payment request can name, and how a fallback
// (version + program, as BOLT 11 carries it) is written as a Bitcoin address on each of them.

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { bech32, bech32m, createBase58check } from '@scure/base';
import { PaymentRequestError } from './errors.ts';

export type Network = 'bitcoin' | 'testnet' | 'signet' | 'regtest' | 'simnet';

interface AddressParams {
  segwitHrp: string;
  p2pkhVersion: number;
  p2shVersion: number;
}

const ADDRESS_PARAMS: Record<Network, AddressParams> = {
  bitcoin: { segwitHrp: 'bc', p2pkhVersion: 0x00, p2shVersion: 0x05 },
  testnet: { segwitHrp: 'tb', p2pkhVersion: 0x6f, p2shVersion: 0xc4 },
  signet: { segwitHrp: 'tb', p2pkhVersion: 0x6f, p2shVersion: 0xc4 },
  regtest: { segwitHrp: 'bcrt', p2pkhVersion: 0x6f, p2shVersion: 0xc4 },
  simnet: { segwitHrp: 'sb', p2pkhVersion: 0x3f, p2shVersion: 0x7b },
};

/** BOLT 11 `f` versions: 0–16 are segwit witness versions; these two are legacy hashes. */
export const FALLBACK_P2PKH = 17;
export const FALLBACK_P2SH = 18;

const base58check = createBase58check(sha256);

/**
 * Whether `program` has a length that `version` allows (BIP 141/BIP 350 for segwit; 20-byte
 * hashes for P2PKH/P2SH). Unknown versions (19–31) are never valid here.
 */
export function isValidFallbackProgram(version: number, program: Uint8Array): boolean {
  if (version === FALLBACK_P2PKH || version === FALLBACK_P2SH) return program.length === 20;
  if (version === 0) return program.length === 20 || program.length === 32;
  if (version >= 1 && version <= 16) return program.length >= 2 && program.length <= 40;
  return false;
}

/** The address text for a fallback on `network`; the caller has checked it with isValidFallbackProgram. */
export function fallbackAddress(network: Network, version: number, program: Uint8Array): string {
  const params = ADDRESS_PARAMS[network];
  if (version === FALLBACK_P2PKH || version === FALLBACK_P2SH) {
    const prefix = version === FALLBACK_P2PKH ? params.p2pkhVersion : params.p2shVersion;
    const payload = new Uint8Array(21);
    payload[0] = prefix;
    payload.set(program, 1);
    return base58check.encode(payload);
  }
  const words = [version, ...bech32.toWords(program)];
  return version === 0 ? bech32.encode(params.segwitHrp, words) : bech32m.encode(params.segwitHrp, words);
}

// ---------------------------------------------------------------------------------------------------
// Reading an address a person pasted or scanned

export type AddressType = 'p2pkh' | 'p2sh' | 'p2wpkh' | 'p2wsh' | 'p2tr' | 'witness-future';

/** A checked on-chain address and the networks whose wallets may pay to it. */
export interface OnchainAddress {
  /** Normalised: bech32 addresses in lowercase (QR codes often carry them in uppercase). */
  readonly address: string;
  readonly type: AddressType;
  /** The output script that pays it, hex. */
  readonly scriptPubKey: string;
  /** Testnet and signet share their address formats; regtest shares the base58 ones too. */
  readonly networks: readonly Network[];
}

const NETWORKS = Object.keys(ADDRESS_PARAMS) as Network[];
const BASE58_ALPHABET = /^[1-9A-HJ-NP-Za-km-z]+$/;

/** Whether `text` is shaped like an address (segwit prefix or base58 of address length), valid or not. */
export function looksLikeAddress(text: string): boolean {
  const lower = text.toLowerCase();
  if (NETWORKS.some((network) => lower.startsWith(`${ADDRESS_PARAMS[network].segwitHrp}1`))) return true;
  return text.length >= 26 && text.length <= 35 && BASE58_ALPHABET.test(text);
}

/**
 * Decode a Bitcoin address with every check of its encoding: base58check (BIP 13), bech32 for
 * witness version 0 and bech32m for versions 1–16 (BIP 173, BIP 350), program lengths.
 * @example
 * decodeAddress('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4').type; // 'p2wpkh'
 */
export function decodeAddress(text: string): OnchainAddress {
  const lower = text.toLowerCase();
  const segwitNetworks = NETWORKS.filter((n) => lower.startsWith(`${ADDRESS_PARAMS[n].segwitHrp}1`));
  if (segwitNetworks.length > 0) return decodeSegwitAddress(text, lower, segwitNetworks);
  return decodeBase58Address(text);
}

function decodeSegwitAddress(text: string, lower: string, networks: Network[]): OnchainAddress {
  if (text !== lower && text !== text.toUpperCase()) {
    throw invalidAddress('it mixes upper and lower case letters');
  }
  const asBech32 = bech32.decodeUnsafe(lower);
  const asBech32m = bech32m.decodeUnsafe(lower);
  const decoded = asBech32 ?? asBech32m;
  if (!decoded) throw invalidAddress('its checksum does not match (a character was mistyped or lost)');
  const [version, ...programWords] = decoded.words;
  if (version === undefined || version > 16)
    throw invalidAddress(`witness version ${version} does not exist`);
  if (version === 0 && !asBech32) throw invalidAddress('a version 0 address must use bech32, not bech32m');
  if (version > 0 && !asBech32m)
    throw invalidAddress(`a version ${version} address must use bech32m (BIP 350)`);
  const program = bech32.fromWordsUnsafe(programWords);
  if (!program) throw invalidAddress('its data has invalid padding');
  if (!isValidFallbackProgram(version, program)) {
    throw invalidAddress(`a version ${version} witness program cannot be ${program.length} bytes long`);
  }
  const type: AddressType =
    version === 0
      ? program.length === 20
        ? 'p2wpkh'
        : 'p2wsh'
      : version === 1 && program.length === 32
        ? 'p2tr'
        : 'witness-future';
  const opcode = version === 0 ? 0 : 0x50 + version;
  const scriptPubKey = bytesToHex(new Uint8Array([opcode, program.length, ...program]));
  return { address: lower, type, scriptPubKey, networks };
}

function decodeBase58Address(text: string): OnchainAddress {
  if (!BASE58_ALPHABET.test(text)) throw invalidAddress('it contains characters that base58 does not use');
  let payload: Uint8Array;
  try {
    payload = base58check.decode(text);
  } catch {
    throw invalidAddress('its checksum does not match (a character was mistyped or lost)');
  }
  if (payload.length !== 21) throw invalidAddress(`it holds ${payload.length - 1} bytes, not a 20-byte hash`);
  const prefix = payload[0];
  const p2pkh = NETWORKS.filter((n) => ADDRESS_PARAMS[n].p2pkhVersion === prefix);
  const p2sh = NETWORKS.filter((n) => ADDRESS_PARAMS[n].p2shVersion === prefix);
  const hash = bytesToHex(payload.slice(1));
  if (p2pkh.length > 0)
    return { address: text, type: 'p2pkh', scriptPubKey: `76a914${hash}88ac`, networks: p2pkh };
  if (p2sh.length > 0) return { address: text, type: 'p2sh', scriptPubKey: `a914${hash}87`, networks: p2sh };
  throw invalidAddress(`its version byte 0x${prefix?.toString(16).padStart(2, '0')} names no known network`);
}

function invalidAddress(problem: string): PaymentRequestError {
  return new PaymentRequestError('INVALID_ADDRESS', `This is not a valid bitcoin address: ${problem}`);
}
