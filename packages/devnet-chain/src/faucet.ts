// The faucet: the devnet's own key (derived from the seed) receives every default coinbase and
// pays out with real signed P2WPKH transactions that go through the same mempool as anyone's.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8 } from '@scure/base';
import { p2wpkh, Transaction } from '@scure/btc-signer';
import type { Chain } from './chain.ts';
import { DevnetError } from './errors.ts';
import { addressScript, REGTEST } from './tx.ts';

export interface FaucetKey {
  privateKey: Uint8Array;
  script: Uint8Array;
  address: string;
}

/** The faucet key for a seed: sha256 of a tagged string, so every seed gives a stable wallet. */
export function faucetKey(seed: string): FaucetKey {
  const privateKey = sha256(utf8.decode(`lpw-devnet/faucet/${seed}`));
  const payment = p2wpkh(secp256k1.getPublicKey(privateKey, true), REGTEST);
  return { privateKey, script: payment.script, address: payment.address! };
}

export interface FundOptions {
  /** Mine this many blocks after broadcasting (0 = leave it in the mempool). */
  confirmations?: number;
  /** Pay `sats` to the address this many times in the one transaction (default 1): many coins, one tx. */
  outputs?: number;
}

export class Faucet {
  constructor(
    private readonly chain: Chain,
    readonly key: FaucetKey,
  ) {}

  get address(): string {
    return this.key.address;
  }

  /** Spendable faucet balance in sats (mature coinbases, confirmed and unconfirmed change). */
  balance(): bigint {
    return this.spendable().reduce((n, c) => n + c.value, 0n);
  }

  /** Send `sats` to `address` in a signed transaction; returns its txid. */
  fund(address: string, sats: bigint | number, options: FundOptions = {}): string {
    const outputs = options.outputs ?? 1;
    if (!Number.isInteger(outputs) || outputs < 1 || outputs > 2_000)
      throw new DevnetError(
        'INVALID_ARGUMENT',
        `"outputs" expected an integer from 1 to 2000, got ${outputs}`,
      );
    const each = BigInt(sats);
    if (each <= 0n)
      throw new DevnetError('INVALID_ARGUMENT', `"sats" expected a positive amount, got ${sats}`);
    const amount = each * BigInt(outputs);
    const destination = addressScript(address);
    const feeRate = Math.max(this.chain.minRelayFeeRate, this.chain.estimateFeeRate(1));
    // Largest coins first keeps transactions small; coinbases are 50 BTC on a young regtest chain.
    const coins = this.spendable().sort((a, b) => (b.value > a.value ? 1 : b.value < a.value ? -1 : 0));
    const tx = new Transaction({ allowUnknownOutputs: true });
    let total = 0n;
    let fee = 0n;
    for (const coin of coins) {
      tx.addInput({
        txid: coin.txid,
        index: coin.vout,
        witnessUtxo: { script: coin.script, amount: coin.value },
        sequence: 0xfffffffd, // signal BIP 125 so tests can bump
      });
      total += coin.value;
      // P2WPKH vsize: 11 overhead + 68 per input + 31..43 per output (upper bound).
      fee = BigInt(Math.ceil((11 + 68 * tx.inputsLength + 43 * (outputs + 1)) * feeRate));
      if (total >= amount + fee) break;
    }
    if (total < amount + fee) {
      throw new DevnetError(
        'INSUFFICIENT_FUNDS',
        `faucet has ${total} sats spendable, needs ${amount + fee}`,
      );
    }
    for (let i = 0; i < outputs; i++) tx.addOutput({ script: destination, amount: each });
    const change = total - amount - fee;
    if (change >= 294n) tx.addOutput({ script: this.key.script, amount: change });
    tx.sign(this.key.privateKey);
    tx.finalize();
    const txid = this.chain.submitTransaction(tx.extract());
    if (options.confirmations) this.chain.mine(options.confirmations);
    return txid;
  }

  private spendable() {
    return this.chain.unspentFor(this.key.script).filter((c) => this.chain.isMature(c));
  }
}
