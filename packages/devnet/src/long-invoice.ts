// Valid BOLT 11 invoices of an exact length, as other wallets send them (LND reads up to 7,089
// characters): a long description and route hints from nodes that do not exist, signed by the payee.
// For tests and the devnet only: it checks that every reader takes what the spec allows.

import { type Bolt11Fields, type Bolt11Signer, encodeBolt11, type RouteHint } from '@lpw/payment-request';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/** Characters of one `d` field's data per description byte count: 5-bit words, rounded up. */
const descriptionWords = (bytes: number) => Math.ceil((bytes * 8) / 5);
/** A one-hop `r` field (tag and length, 51 bytes) and a two-hop one: 85 and 167 characters. */
const ONE_HOP_WORDS = 3 + descriptionWords(51);
const TWO_HOP_WORDS = 3 + descriptionWords(102);
/** One tagged field holds at most 1,023 words: 639 bytes of description. */
const MAX_DESCRIPTION_BYTES = 639;
const PHRASE = 'A long invoice, as other wallets write them. ';

/** A hop from a made-up node (a valid key nobody holds a channel with), so payers route around it. */
function decoyHop(index: number): RouteHint[number] {
  const key = sha256(utf8ToBytes(`lpw-devnet/decoy-hop/${index}`));
  return {
    pubkey: bytesToHex(secp256k1.getPublicKey(key, true)),
    shortChannelId: 0x0f_ffff_0000_0000n + BigInt(index),
    feeBaseMsat: 1_000n,
    feeProportionalMillionths: 100,
    cltvExpiryDelta: 40,
  };
}

/**
 * `fields` as an invoice of exactly `chars` characters: a description of up to 639 bytes (the most
 * one field holds) and as many decoy route hints as it takes. Throws a RangeError when `fields`
 * alone are longer.
 * @example
 * const text = longBolt11({ network: 'regtest', amountMsat, timestamp, paymentHash, paymentSecret,
 *   features: [8, 14] }, 2_000, privateKey);
 * text.length; // 2000
 */
export function longBolt11(
  fields: Omit<Bolt11Fields, 'description' | 'descriptionHash' | 'routeHints'>,
  chars: number,
  sign: Bolt11Signer | Uint8Array,
): string {
  const shortest = encodeBolt11({ ...fields, description: '' }, sign).length;
  const extra = chars - shortest;
  // extra = one-hop hints × 85 + two-hop hints × 167 + description words (not every count is one)
  for (let twoHop = 0; twoHop <= 2; twoHop++) {
    for (let oneHop = 0; oneHop * ONE_HOP_WORDS + twoHop * TWO_HOP_WORDS <= extra; oneHop++) {
      const words = extra - oneHop * ONE_HOP_WORDS - twoHop * TWO_HOP_WORDS;
      const bytes = Math.floor((words * 5) / 8);
      if (bytes > MAX_DESCRIPTION_BYTES || descriptionWords(bytes) !== words) continue;
      let decoy = 0;
      const routeHints: RouteHint[] = [
        ...Array.from({ length: oneHop }, () => [decoyHop(decoy++)]),
        ...Array.from({ length: twoHop }, () => [decoyHop(decoy++), decoyHop(decoy++)]),
      ];
      const description = PHRASE.repeat(Math.ceil(bytes / PHRASE.length)).slice(0, bytes);
      const text = encodeBolt11({ ...fields, description, routeHints }, sign);
      if (text.length !== chars) throw new Error(`longBolt11 made ${text.length} characters, not ${chars}`);
      return text;
    }
  }
  throw new RangeError(`these fields make at least ${shortest} characters, more than ${chars}`);
}

/** The parts of a node `nodeLongInvoice` uses (a devnet peer, a test's wallet). */
export interface InvoicingNode {
  createInboundPayment(request: { amountMsat?: bigint; expirySecs: number }): {
    paymentHash: string;
    paymentSecret: string;
  };
  signInvoice(hash: Uint8Array): { signature: Uint8Array; recoveryId: number };
  network: Bolt11Fields['network'];
}

/**
 * An invoice of exactly `chars` characters that `node` will be paid on: its payment hash and secret,
 * signed with its node key.
 */
export function nodeLongInvoice(
  node: InvoicingNode,
  request: { amountMsat: bigint; chars: number; expirySecs?: number },
): { bolt11: string; paymentHash: string } {
  const expirySecs = request.expirySecs ?? 600;
  const { paymentHash, paymentSecret } = node.createInboundPayment({
    amountMsat: request.amountMsat,
    expirySecs,
  });
  const bolt11 = longBolt11(
    {
      network: node.network,
      amountMsat: request.amountMsat,
      timestamp: Math.floor(Date.now() / 1000),
      paymentHash,
      paymentSecret,
      expirySeconds: expirySecs,
      // well above LDK's own minimum for receiving, as the node's own invoices
      minFinalCltvExpiryDelta: 144,
      features: [8, 14, 17],
    },
    request.chars,
    (hash) => {
      const { signature, recoveryId } = node.signInvoice(hash);
      return { signature64: signature, recovery: recoveryId };
    },
  );
  return { bolt11, paymentHash };
}
