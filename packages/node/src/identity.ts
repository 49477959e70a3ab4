// The node's identity key from its seed, without starting a node: a wallet logs in to its LSP (and
// fetches its backup) before it knows what channel state to start with. The same derivation as the
// running node's KeysManager, so both sign as the same node id.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as ldk from 'lightningdevkit';
import { NodeError } from './errors.ts';
import { assertLdkReady } from './ldk/init.ts';
import { toHex } from './ldk/values.ts';

/**
 * LDK's KeysManager seed: a domain-separated derivation of the node seed, so the same 32 bytes used
 * elsewhere (on-chain wallet) never double as LDK's master secret.
 */
export function keysManagerSeed(seed: Uint8Array): Uint8Array {
  return hmac(sha256, new TextEncoder().encode('lpw/ldk-keys-manager/v1'), seed);
}

export interface NodeIdentity {
  nodeId: string;
  /** Only the node key: what a login signature needs. */
  ldk: { keysManager: Pick<ldk.KeysManager, 'get_node_secret_key'> };
}

/** The node id and node key of `seed` (32 bytes); LDK must be initialised. */
export function nodeIdentity(seed: Uint8Array): NodeIdentity {
  assertLdkReady();
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw new NodeError('INVALID_INPUT', `"seed" expected 32 bytes, got ${seed?.length}`);
  // the node key does not depend on the start time (only ephemeral keys do)
  const keysManager = ldk.KeysManager.constructor_new(keysManagerSeed(seed), 0n, 0);
  const secret = keysManager.get_node_secret_key();
  const nodeId = toHex(secp256k1.getPublicKey(secret, true));
  secret.fill(0);
  return { nodeId, ldk: { keysManager } };
}
