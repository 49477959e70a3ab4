// Consensus shape of mined blocks, recomputed independently with @noble/hashes and @scure/btc-signer.
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import { Transaction } from '@scure/btc-signer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from './index.ts';
import { testKey } from './testkit.ts';

const dsha = (b: Uint8Array) => sha256(sha256(b));
const rev = (b: Uint8Array) => Uint8Array.from(b).reverse();
const cat = (a: Uint8Array, b: Uint8Array) => Uint8Array.from([...a, ...b]);

function merkle(leavesInternalOrder: Uint8Array[]): Uint8Array {
  let level = leavesInternalOrder;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(dsha(cat(level[i]!, level[i + 1] ?? level[i]!)));
    level = next;
  }
  return level[0]!;
}

let devnet: Devnet;
beforeAll(async () => {
  devnet = await startDevnet({ servers: false });
  // A block carrying segwit transactions so the witness commitment covers more than the coinbase.
  const alice = testKey('alice');
  devnet.fund(alice.address, 50_000n);
  devnet.fund(alice.address, 60_000n);
  devnet.mine(1);
});
afterAll(() => devnet.stop());

describe('block headers', () => {
  it('chain by previous hash and satisfy regtest proof of work (nBits 0x207fffff)', () => {
    const target = 0x7fffffn << (8n * (0x20n - 3n));
    for (let h = 0; h <= devnet.chain.tipHeight; h++) {
      const block = devnet.chain.getBlock(h)!;
      expect(block.header.length).toBe(80);
      const hash = rev(dsha(block.header));
      expect(hex.encode(hash)).toBe(block.hash);
      expect(BigInt(`0x${hex.encode(hash)}`) <= target).toBe(true);
      const view = new DataView(block.header.buffer, block.header.byteOffset, 80);
      expect(view.getUint32(72, true)).toBe(0x207fffff);
      const prev = hex.encode(rev(block.header.subarray(4, 36)));
      expect(prev).toBe(h === 0 ? '0'.repeat(64) : devnet.chain.getBlock(h - 1)!.hash);
      if (h > 0) expect(view.getUint32(68, true)).toBeGreaterThan(devnet.chain.getBlock(h - 1)!.time);
    }
  });

  it('commit to the merkle root of the txids', () => {
    const block = devnet.chain.tip();
    expect(block.txs.length).toBe(3);
    const txids = block.txs.map((t) => {
      const parsed = Transaction.fromRaw(t.raw, {
        allowUnknownOutputs: true,
        allowUnknownInputs: true,
        disableScriptCheck: true,
      });
      expect(parsed.id).toBe(t.txid);
      return rev(hex.decode(parsed.id));
    });
    expect(hex.encode(block.header.subarray(36, 68))).toBe(hex.encode(merkle(txids)));
  });
});

describe('coinbase', () => {
  it('carries the BIP 141 witness commitment over the wtxids', () => {
    const block = devnet.chain.tip();
    const coinbase = block.txs[0]!;
    const wtxids = block.txs.map((t, i) => (i === 0 ? new Uint8Array(32) : dsha(t.raw)));
    expect(hex.encode(rev(wtxids[1]!))).toBe(block.txs[1]!.wtxid);
    const reserved = new Uint8Array(32);
    const commitment = dsha(cat(merkle(wtxids), reserved));
    const out = coinbase.outputs.find((o) => hex.encode(o.script).startsWith('6a24aa21a9ed'))!;
    expect(hex.encode(out.script)).toBe(`6a24aa21a9ed${hex.encode(commitment)}`);
    expect(coinbase.inputs[0]!.witness.map((w) => hex.encode(w))).toEqual([hex.encode(reserved)]);
  });

  it('starts its scriptSig with the BIP 34 height', () => {
    const tip = devnet.chain.tip();
    // height 102 = 0x66: a one-byte CScriptNum push
    expect(hex.encode(tip.txs[0]!.inputs[0]!.scriptSig).startsWith(`01${tip.height.toString(16)}`)).toBe(
      true,
    );
    // heights 1..16 use OP_1..OP_16 as `CScript() << height` does
    expect(devnet.chain.getBlock(5)!.txs[0]!.inputs[0]!.scriptSig[0]).toBe(0x55);
  });

  it('pays the subsidy plus the fees of the block', () => {
    const tip = devnet.chain.tip();
    const fees = tip.txs.slice(1).reduce((n, t) => n + devnet.chain.getTransaction(t.txid)!.fee, 0n);
    expect(fees).toBeGreaterThan(0n);
    expect(tip.txs[0]!.outputs[0]!.value).toBe(50_00000000n + fees);
  });

  it('is deterministic from the seed', async () => {
    const again = await startDevnet({ servers: false, premine: 5 });
    const other = await startDevnet({ servers: false, premine: 5, seed: 'other' });
    expect(again.chain.getBlock(5)!.hash).toBe(devnet.chain.getBlock(5)!.hash);
    expect(other.chain.getBlock(5)!.hash).not.toBe(devnet.chain.getBlock(5)!.hash);
  });
});
