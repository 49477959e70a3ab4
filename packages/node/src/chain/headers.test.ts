// Header rules against mainnet's first blocks and Bitcoin Core's difficulty vectors
// (src/test/pow_tests.cpp: get_next_work, _pow_limit, _lower_limit_actual, _upper_limit_actual).
import { hex } from '@scure/base';
import { describe, expect, it } from 'vitest';
import { isChainError } from './errors.ts';
import {
  type BlockHeader,
  bitsFromTarget,
  checkDifficulty,
  decodeHeader,
  HeaderChain,
  NETWORK_RULES,
  targetFromBits,
} from './headers.ts';

const GENESIS =
  '0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c';
const BLOCK_1 =
  '010000006fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000982051fd1e4ba744bbbe680e1fee14677ba1a3c3540bf7b1cdb606e857233e0e61bc6649ffff001d01e36299';
const mainnet = NETWORK_RULES.mainnet;

const caught = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return isChainError(e) ? e.code : String(e);
  }
};

describe('header chain (mainnet rules)', () => {
  const genesis = decodeHeader(hex.decode(GENESIS), 0);
  const block1 = () => decodeHeader(hex.decode(BLOCK_1), 1);

  it('accepts block 1 on the genesis block: link and proof of work', () => {
    expect(genesis.hash).toBe('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f');
    const chain = new HeaderChain(genesis, mainnet);
    chain.connect([block1()]);
    expect(chain.tip.hash).toBe('00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048');
    expect(chain.holds(chain.tip.hash, 1)).toBeDefined();
  });

  it('refuses a header whose nonce was changed (hash misses the target), holding nothing of it', () => {
    const raw = hex.decode(BLOCK_1);
    raw[79]! ^= 0x01;
    const chain = new HeaderChain(genesis, mainnet);
    expect(caught(() => chain.connect([decodeHeader(raw, 1)]))).toBe('BAD_PROOF_OF_WORK');
    expect(chain.tip.height).toBe(0);
  });

  it('refuses a header that claims an easier target than the network allows', () => {
    const easy: BlockHeader = { ...block1(), bits: 0x207fffff };
    expect(caught(() => new HeaderChain(genesis, mainnet).connect([easy]))).toBe('BAD_PROOF_OF_WORK');
  });

  it('refuses a header that does not link to the one below', () => {
    const other = decodeHeader(hex.decode(GENESIS), 0);
    const chain = new HeaderChain({ ...other, hash: 'ff'.repeat(32) }, mainnet);
    expect(caught(() => chain.connect([block1()]))).toBe('BROKEN_HEADER_CHAIN');
  });

  it('compact targets round-trip as Core encodes them', () => {
    for (const bits of [0x1d00ffff, 0x1c05a3f4, 0x170240c3, 0x207fffff])
      expect(bitsFromTarget(targetFromBits(bits))).toBe(bits);
    expect(caught(() => targetFromBits(0x04923456))).toBe('BAD_PROOF_OF_WORK'); // sign bit set
  });
});

describe('difficulty schedule (Core pow_tests vectors)', () => {
  const at = (height: number, time: number, bits: number): BlockHeader => ({
    hash: '',
    height,
    raw: new Uint8Array(80),
    prevHash: '',
    merkleRoot: new Uint8Array(32),
    time,
    bits,
  });
  const vectors: Array<[string, number, number, number, number, number]> = [
    ['get_next_work', 32255, 1261130161, 1262152739, 0x1d00ffff, 0x1d00d86a],
    ['pow_limit', 2015, 1231006505, 1233061996, 0x1d00ffff, 0x1d00ffff],
    ['lower_limit_actual', 68543, 1279008237, 1279297671, 0x1c05a3f4, 0x1c0168fd],
    ['upper_limit_actual', 46367, 1263163443, 1269211443, 0x1c387f6f, 0x1d00e1fd],
  ];
  for (const [name, lastHeight, firstTime, lastTime, lastBits, expected] of vectors) {
    it(name, () => {
      const prev = at(lastHeight, lastTime, lastBits);
      const periodStart = at(lastHeight - 2015, firstTime, lastBits);
      expect(caught(() => checkDifficulty(at(lastHeight + 1, 0, expected), prev, periodStart, mainnet))).toBe(
        undefined,
      );
      expect(
        caught(() => checkDifficulty(at(lastHeight + 1, 0, expected - 1), prev, periodStart, mainnet)),
      ).toBe('BAD_DIFFICULTY');
    });
  }

  it('inside a period the bits repeat; after a checkpoint only the ×4 bound is known', () => {
    const prev = at(100, 0, 0x1d00ffff);
    expect(caught(() => checkDifficulty(at(101, 0, 0x1d00fffe), prev, undefined, mainnet))).toBe(
      'BAD_DIFFICULTY',
    );
    const boundary = at(2015, 0, 0x1c05a3f4);
    expect(caught(() => checkDifficulty(at(2016, 0, 0x1c0168fd), boundary, undefined, mainnet))).toBe(
      undefined,
    );
    expect(caught(() => checkDifficulty(at(2016, 0, 0x1c0168fc), boundary, undefined, mainnet))).toBe(
      'BAD_DIFFICULTY',
    );
  });
});
