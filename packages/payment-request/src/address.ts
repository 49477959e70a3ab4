// On-chain addresses as text: the networks a payment request can name, and how a fallback
// (version + program, as BOLT 11 carries it) is written as a Bitcoin address on each of them.

import { sha256 } from '@noble/hashes/sha2.js';
import { bech32, bech32m, createBase58check } from '@scure/base';

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
