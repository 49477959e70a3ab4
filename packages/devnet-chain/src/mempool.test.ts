// Mempool admission as bitcoind: scripts verified by bitcore, lock times, conflicts and BIP 125.

import { schnorr } from '@noble/curves/secp256k1.js';
import { hex } from '@scure/base';
import { OP, p2tr, RawTx, Script, Transaction } from '@scure/btc-signer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, RejectError, startDevnet } from './index.ts';
import { NET, scriptSpend, signSpend, testKey, type Utxo, witnessScriptOutput } from './testkit.ts';

let devnet: Devnet;
const alice = testKey('alice');
const bob = testKey('bob');

beforeAll(async () => {
  devnet = await startDevnet({ servers: false });
});
afterAll(() => devnet.stop());

/** Fund `script`'s address with a confirmed coin and return it. */
function fundedCoin(address: string, value: bigint, confirmations = 1): Utxo {
  const txid = devnet.fund(address, value, { confirmations });
  const tx = devnet.chain.getTransaction(txid)!.tx;
  const vout = tx.outputs.findIndex((o) => o.value === value);
  return { txid, vout, value, script: tx.outputs[vout]!.script };
}

function rejection(raw: string): RejectError {
  try {
    devnet.chain.submitTransaction(raw);
  } catch (e) {
    if (e instanceof RejectError) return e;
    throw e;
  }
  throw new Error('transaction was accepted');
}

describe('script verification', () => {
  it('accepts a valid P2WPKH spend and mines it', () => {
    const coin = fundedCoin(alice.address, 100_000n);
    const txid = devnet.chain.submitTransaction(
      signSpend(alice, [coin], [{ script: bob.script, value: 99_000n }]),
    );
    expect(devnet.chain.mempool.get(txid)?.fee).toBe(1_000n);
    const [block] = devnet.mine(1);
    expect(block!.txs.map((t) => t.txid)).toContain(txid);
    expect(devnet.chain.utxo({ txid, vout: 0 })?.value).toBe(99_000n);
    expect(devnet.chain.utxo(coin)).toBeUndefined();
  });

  it('rejects a bad signature with mandatory-script-verify-flag-failed', () => {
    const coin = fundedCoin(alice.address, 100_000n);
    const signed = RawTx.decode(
      hex.decode(signSpend(alice, [coin], [{ script: bob.script, value: 99_000n }])),
    );
    // Change what was signed: the signature no longer matches, and NULLFAIL names the failure.
    signed.outputs[0]!.amount = 98_000n;
    const err = rejection(hex.encode(RawTx.encode(signed)));
    expect(err.message).toBe(
      'mandatory-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)',
    );
    expect(err.code).toBe(-26);
  });

  it('rejects a spend signed by the wrong key', () => {
    const coin = fundedCoin(alice.address, 100_000n);
    const forged = signSpend(
      bob,
      [{ ...coin, script: bob.script }],
      [{ script: bob.script, value: 99_000n }],
    );
    expect(rejection(forged).reason).toBe(
      'mandatory-script-verify-flag-failed (Script failed an OP_EQUALVERIFY operation)',
    );
  });
});

describe('taproot (verified by bitcore, BIP 341 key path)', () => {
  it('accepts a key-path P2TR spend and rejects one whose signature no longer matches', () => {
    const internal = schnorr.getPublicKey(alice.privateKey);
    const taproot = p2tr(internal, undefined, NET);
    const coin = fundedCoin(taproot.address!, 80_000n);
    const build = (value: bigint) => {
      const tx = new Transaction();
      tx.addInput({
        txid: coin.txid,
        index: coin.vout,
        witnessUtxo: { script: taproot.script, amount: coin.value },
        tapInternalKey: internal,
      });
      tx.addOutput({ script: bob.script, amount: value });
      tx.sign(alice.privateKey);
      tx.finalize();
      return tx.hex;
    };
    const tampered = RawTx.decode(hex.decode(build(79_000n)));
    tampered.outputs[0]!.amount = 78_000n;
    expect(rejection(hex.encode(RawTx.encode(tampered))).reason).toBe(
      'mandatory-script-verify-flag-failed (Invalid Schnorr signature)',
    );
    expect(devnet.chain.submitTransaction(build(79_000n))).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('the faucet', () => {
  it('pays many coins in one transaction, and refuses a count it cannot', () => {
    const carol = testKey('carol');
    const txid = devnet.fund(carol.address, 12_345n, { outputs: 300, confirmations: 1 });
    const coins = devnet.chain.unspentFor(carol.script).filter((c) => c.txid === txid);
    expect(coins.map((c) => c.value)).toEqual(Array(300).fill(12_345n));
    for (const outputs of [0, 1.5, 2_001])
      expect(() => devnet.fund(carol.address, 1_000n, { outputs })).toThrow(/"outputs" expected/);
  });
});

describe('inputs and amounts', () => {
  it('rejects spending an immature coinbase', () => {
    const [block] = devnet.mine(1, alice.address);
    const coinbase = block!.txs[0]!;
    const coin = { txid: coinbase.txid, vout: 0, value: coinbase.outputs[0]!.value, script: alice.script };
    const err = rejection(signSpend(alice, [coin], [{ script: bob.script, value: 1_000_000n }]));
    expect(err.reason).toBe('bad-txns-premature-spend-of-coinbase');
    expect(err.message).toBe('bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth 1');
  });

  it('rejects missing inputs, outputs above inputs, dust and fees under the relay floor', () => {
    const coin = fundedCoin(alice.address, 100_000n);
    const missing = rejection(
      signSpend(alice, [{ ...coin, txid: 'ab'.repeat(32) }], [{ script: bob.script, value: 1_000n }]),
    );
    expect([missing.reason, missing.code]).toEqual(['bad-txns-inputs-missingorspent', -25]);
    // btc-signer refuses to sign outputs above inputs, so claim a bigger coin: amounts are checked before scripts.
    const belowOut = rejection(
      signSpend(alice, [{ ...coin, value: 200_000n }], [{ script: bob.script, value: 100_001n }]),
    );
    expect(belowOut.message).toBe('bad-txns-in-belowout, value in (0.001) < value out (0.00100001)');
    expect(rejection(signSpend(alice, [coin], [{ script: bob.script, value: 293n }])).reason).toBe('dust');
    const cheap = rejection(signSpend(alice, [coin], [{ script: bob.script, value: 99_950n }]));
    expect(cheap.message).toMatch(/^min relay fee not met, 50 < 1\d\d$/);
  });
});

describe('conflicts and replacement (BIP 125)', () => {
  it('rejects a double spend of a non-signalling transaction with txn-mempool-conflict', () => {
    const coin = fundedCoin(alice.address, 100_000n);
    const first = signSpend(alice, [coin], [{ script: bob.script, value: 99_000n }], {
      sequence: 0xffffffff,
    });
    devnet.chain.submitTransaction(first);
    const second = signSpend(alice, [coin], [{ script: alice.script, value: 90_000n }], {
      sequence: 0xffffffff,
    });
    const err = rejection(second);
    expect([err.reason, err.code]).toEqual(['txn-mempool-conflict', -26]);
  });

  it('replaces a signalling transaction by one paying a higher fee, and refuses a lower one', () => {
    const coin = fundedCoin(alice.address, 100_000n);
    const original = devnet.chain.submitTransaction(
      signSpend(alice, [coin], [{ script: bob.script, value: 99_000n }]),
    );
    const child = devnet.chain.submitTransaction(
      signSpend(
        bob,
        [{ txid: original, vout: 0, value: 99_000n, script: bob.script }],
        [{ script: bob.script, value: 98_000n }],
      ),
    );
    const lower = rejection(signSpend(alice, [coin], [{ script: alice.script, value: 99_500n }]));
    expect(lower.reason).toBe('insufficient fee');
    expect(lower.message).toMatch(
      /rejecting replacement [0-9a-f]{64}; new feerate .* BTC\/kvB <= old feerate/,
    );
    const replacement = devnet.chain.submitTransaction(
      signSpend(alice, [coin], [{ script: alice.script, value: 95_000n }]),
    );
    expect(devnet.chain.mempool.get(replacement)).toBeDefined();
    expect(devnet.chain.mempool.get(original)).toBeUndefined();
    expect(devnet.chain.mempool.get(child)).toBeUndefined(); // descendants leave with it
  });
});

describe('lock times', () => {
  const csvScript = Script.encode([3, 'CHECKSEQUENCEVERIFY', 'DROP', OP.OP_1]);
  it('holds a BIP 68 relative lock (CSV) as non-BIP68-final until enough blocks', () => {
    const out = witnessScriptOutput(csvScript);
    const coin = fundedCoin(out.address, 50_000n); // confirmed at the tip
    const spend = scriptSpend(coin, csvScript, bob.script, 49_000n, { sequence: 3, lockTime: 0 });
    expect(rejection(spend).reason).toBe('non-BIP68-final');
    devnet.mine(1);
    expect(rejection(spend).reason).toBe('non-BIP68-final');
    devnet.mine(1); // the next block is the third on top of the coin's
    expect(devnet.chain.submitTransaction(spend)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fails OP_CHECKSEQUENCEVERIFY when the input sequence is below the script', () => {
    const out = witnessScriptOutput(csvScript);
    const coin = fundedCoin(out.address, 50_000n, 5);
    const spend = scriptSpend(coin, csvScript, bob.script, 49_000n, { sequence: 2, lockTime: 0 });
    expect(rejection(spend).reason).toBe(
      'mandatory-script-verify-flag-failed (Locktime requirement not satisfied)',
    );
  });

  it('enforces nLockTime (non-final) and OP_CHECKLOCKTIMEVERIFY', () => {
    const unlock = devnet.chain.tipHeight + 3;
    const cltvScript = Script.encode([unlock, 'CHECKLOCKTIMEVERIFY', 'DROP', OP.OP_1]);
    const out = witnessScriptOutput(cltvScript);
    const coin = fundedCoin(out.address, 50_000n); // tip is now unlock - 2
    const early = scriptSpend(coin, cltvScript, bob.script, 49_000n, {
      sequence: 0xfffffffe,
      lockTime: unlock - 2,
    });
    const spend = scriptSpend(coin, cltvScript, bob.script, 49_000n, {
      sequence: 0xfffffffe,
      lockTime: unlock,
    });
    expect(rejection(spend).reason).toBe('non-final');
    // Final by nLockTime, but below what the script demands.
    expect(rejection(early).reason).toBe(
      'mandatory-script-verify-flag-failed (Locktime requirement not satisfied)',
    );
    devnet.mine(2); // next block height = unlock + 1 > nLockTime
    expect(devnet.chain.submitTransaction(spend)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('reorg by invalidateBlock', () => {
  it('returns the disconnected transactions to the mempool and mines a new branch', () => {
    const coin = fundedCoin(alice.address, 100_000n);
    const txid = devnet.chain.submitTransaction(
      signSpend(alice, [coin], [{ script: bob.script, value: 99_000n }]),
    );
    const events: string[] = [];
    const off = devnet.chain.onBlock((e) => events.push(`${e.type}:${e.block.height}`));
    const [block] = devnet.mine(1);
    const height = block!.height;
    devnet.mine(2);
    devnet.chain.invalidateBlock(block!.hash);
    expect(devnet.chain.tipHeight).toBe(height - 1);
    expect(devnet.chain.mempool.get(txid)).toBeDefined();
    expect(devnet.chain.getTransaction(txid)?.location).toBeUndefined();
    expect(devnet.chain.utxo({ txid, vout: 0 }, false)).toBeUndefined();
    const [replacement] = devnet.mine(1);
    expect(replacement!.height).toBe(height);
    expect(replacement!.hash).not.toBe(block!.hash);
    expect(replacement!.prevHash).toBe(devnet.chain.getBlock(height - 1)!.hash);
    expect(devnet.chain.getTransaction(txid)?.location?.blockHash).toBe(replacement!.hash);
    expect(devnet.chain.confirmations(block!.hash)).toBe(-1);
    expect(events).toEqual([
      `connected:${height}`,
      `connected:${height + 1}`,
      `connected:${height + 2}`,
      `disconnected:${height + 2}`,
      `disconnected:${height + 1}`,
      `disconnected:${height}`,
      `connected:${height}`,
    ]);
    off();
  });
});
