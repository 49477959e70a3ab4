// Keys derived from the LSP seed, one per purpose, so the promise key never doubles as anything else.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

export function deriveSecrets(seed: Uint8Array): { promise: Uint8Array; nodeSeed: Uint8Array } {
  const derive = (purpose: string) => hmac(sha256, seed, utf8ToBytes(`lpw-lsp/${purpose}`));
  return { promise: derive('lsps2-promise'), nodeSeed: derive('lightning-node') };
}
