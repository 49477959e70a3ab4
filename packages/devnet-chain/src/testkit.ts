// The tests' kit: `waitUntil`, the one poll every package's tests share (this package has no workspace
// dependencies, so all of them can import it), and `fundingBroadcast` on it; a throwaway key that
// signs real P2WPKH spends with @scure/btc-signer, and raw transaction building for custom witness
// scripts, independent of the devnet's own codec.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import { Address, OutScript, p2wpkh, p2wsh, RawTx, Transaction } from '@scure/btc-signer';

/**
 * Polls `condition` (sync or async) every `everyMs` until it holds; after `ms` throws
 * `timeout waiting for <what> (<elapsed> ms)`. `what` may be a function, to name what is still missing.
 */
export async function waitUntil(
  what: string | (() => string),
  condition: () => boolean | Promise<boolean>,
  ms = 10_000,
  everyMs = 5,
): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    const elapsedMs = Date.now() - start;
    if (elapsedMs > ms) {
      throw new Error(`timeout waiting for ${typeof what === 'string' ? what : what()} (${elapsedMs} ms)`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Waits until `chain` holds the funding tx of `fundingTxo` ("txid:vout"), in its mempool or a block,
 * and returns its txid. A node reports `channel-pending` as it hands the funding tx to its
 * broadcaster, which sends it just after: mining before this would leave the channel unconfirmed.
 */
export async function fundingBroadcast(
  chain: { getTransaction(txid: string): unknown },
  fundingTxo: string,
  ms = 30_000,
): Promise<string> {
  const txid = fundingTxo.split(':')[0]!;
  await waitUntil(`funding tx ${txid} broadcast`, () => chain.getTransaction(txid) !== undefined, ms);
  return txid;
}

export const NET = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };

export interface Utxo {
  txid: string;
  vout: number;
  value: bigint;
  script: Uint8Array;
}

export function testKey(name: string) {
  const privateKey = sha256(new TextEncoder().encode(`test-key/${name}`));
  const payment = p2wpkh(secp256k1.getPublicKey(privateKey, true), NET);
  return { privateKey, script: payment.script, address: payment.address! };
}

/** A signed P2WPKH spend of `utxos` paying `outputs`; sequence 0xfffffffd unless given. */
export function signSpend(
  key: ReturnType<typeof testKey>,
  utxos: Utxo[],
  outputs: { script: Uint8Array; value: bigint }[],
  opts: { sequence?: number; lockTime?: number; version?: number } = {},
): string {
  const tx = new Transaction({
    allowUnknownOutputs: true,
    lockTime: opts.lockTime ?? 0,
    version: opts.version ?? 2,
  });
  for (const u of utxos) {
    tx.addInput({
      txid: u.txid,
      index: u.vout,
      witnessUtxo: { script: u.script, amount: u.value },
      sequence: opts.sequence ?? 0xfffffffd,
    });
  }
  for (const o of outputs) tx.addOutput({ script: o.script, amount: o.value });
  tx.sign(key.privateKey);
  tx.finalize();
  return tx.hex;
}

/** A P2WSH output for `witnessScript` (spent by pushing only the script). */
export function witnessScriptOutput(witnessScript: Uint8Array) {
  const payment = p2wsh({ type: 'unknown', script: witnessScript }, NET);
  return { script: payment.script, address: payment.address!, witnessScript };
}

/** An unsigned spend of one P2WSH coin whose witness is just the script (CSV/CLTV fixtures). */
export function scriptSpend(
  coin: Utxo,
  witnessScript: Uint8Array,
  to: Uint8Array,
  value: bigint,
  opts: { sequence: number; lockTime: number },
): string {
  return hex.encode(
    RawTx.encode({
      version: 2,
      segwitFlag: true,
      inputs: [
        {
          txid: hex.decode(coin.txid),
          index: coin.vout,
          finalScriptSig: new Uint8Array(),
          sequence: opts.sequence,
        },
      ],
      outputs: [{ amount: value, script: to }],
      witnesses: [[witnessScript]],
      lockTime: opts.lockTime,
    }),
  );
}

export const addressToScript = (address: string): Uint8Array =>
  OutScript.encode(Address(NET).decode(address));
