// Real LDK nodes reading their chain through a lying Esplora: while a lie is served, the node feeds
// LDK nothing (its channel's confirmations do not move), names the lie (`chain-view-changed`,
// `chainWatch().failure`), and picks up the true chain once the source is honest again. A checks
// one source alone; B also compares a second source, which catches what one source cannot.

import { fundingBroadcast, type LyingEsplora, startLyingEsplora, waitUntil } from '@lpw/devnet-chain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainErrorCode } from '../src/chain/errors.ts';
import { isChainError } from '../src/chain/errors.ts';
import type { LightningNode } from '../src/node.ts';
import { inMemory } from '../src/transport/memory.ts';
import { type TestNet, testNet } from './harness.ts';

describe('a node on a lying chain source', () => {
  let net: TestNet;
  let liar: LyingEsplora;
  let peer: LightningNode;
  let a: LightningNode;
  let b: LightningNode;
  const fundingTxids: string[] = [];
  const views: Array<{ node: string; ok: boolean; code: ChainErrorCode | undefined }> = [];

  beforeAll(async () => {
    net = await testNet('chain-view-tests');
    liar = await startLyingEsplora(net.devnet.esploraUrl);
    const second = await net.devnet.startEsplora();
    peer = (await net.make('peer', 0x51)).node;
    // the per-item view a wallet has, whose answers the lies forge (a block scan reads whole blocks,
    // each checked against its header's merkle root: CheckedChainSource.block)
    const wallet = { blockScan: false };
    a = (await net.make('a', 0xa1, { chain: { esploraUrl: liar.url, checked: true }, ...wallet })).node;
    b = (await net.make('b', 0xb2, { chain: { esploraUrl: liar.url, secondEsploraUrl: second }, ...wallet }))
      .node;
    for (const [name, node] of [
      ['a', a],
      ['b', b],
    ] as const)
      node.on('chain-view-changed', (e) => views.push({ node: name, ok: e.ok, code: e.code }));
    for (const node of [a, b]) await net.fund(node, 1_000_000n);
    // both funding txs unconfirmed until the first test mines them in one block
    for (const node of [a, b]) {
      await node.connect(peer.nodeId, inMemory(peer));
      const pending = node.waitFor('channel-pending', undefined, 15_000);
      node.openChannel({ peerId: peer.nodeId, capacitySat: 300_000n });
      const txid = await fundingBroadcast(net.devnet.chain, (await pending).fundingTxo);
      fundingTxids.push(txid);
    }
  }, 60_000);

  afterAll(async () => {
    for (const node of [a, b, peer]) await node?.stop();
    await liar?.close();
    await net?.stop();
  });

  const confirmations = (node: LightningNode): number => node.listChannels()[0]?.confirmations ?? 0;
  const syncCode = (node: LightningNode): Promise<ChainErrorCode | 'ok'> =>
    node.syncChain().then(
      () => 'ok' as const,
      (e: unknown) => {
        if (isChainError(e)) return e.code;
        throw e;
      },
    );

  it('(c) a forged merkle proof of the funding tx: BAD_MERKLE_PROOF, the channel stays unconfirmed', async () => {
    liar.lie({ kind: 'forge-merkle', txids: fundingTxids });
    await net.mine(1, [peer]);
    expect(await syncCode(a)).toBe('BAD_MERKLE_PROOF');
    expect(await syncCode(b)).toBe('BAD_MERKLE_PROOF');
    for (const node of [a, b]) {
      expect(confirmations(node)).toBe(0);
      expect(node.chainWatch().failure?.code).toBe('BAD_MERKLE_PROOF');
    }
    await waitUntil('both warned', () => views.filter((v) => !v.ok).length === 2);
  });

  it('(a) the funding tx hidden: one source cannot tell, the second source names it', async () => {
    liar.lie({ kind: 'hide-tx', txids: fundingTxids });
    expect(await syncCode(a)).toBe('ok');
    expect(await syncCode(b)).toBe('SOURCES_DISAGREE');
    for (const node of [a, b]) expect(confirmations(node)).toBe(0);
    expect(b.chainWatch()).toMatchObject({
      checked: true,
      compared: true,
      failure: { code: 'SOURCES_DISAGREE' },
    });
  });

  it('honest again: both see the confirmation, the warning ends', async () => {
    liar.lie({ kind: 'honest' });
    for (const node of [a, b]) {
      expect(await syncCode(node)).toBe('ok');
      expect(confirmations(node)).toBe(1);
      expect(node.chainWatch().failure).toBeUndefined();
    }
    await waitUntil('b cleared', () => views.at(-1)?.node === 'b' && views.at(-1)?.ok === true);
  });

  it('(d) the tip held back: one source cannot tell, the second source names it', async () => {
    liar.lie({ kind: 'hold-tip', height: net.devnet.chain.tipHeight });
    await net.mine(2, [peer]);
    expect(await syncCode(a)).toBe('ok');
    expect(await syncCode(b)).toBe('SOURCES_DISAGREE');
    for (const node of [a, b]) expect(confirmations(node)).toBe(1);
  });

  it('(b) a tip without proof of work: BAD_PROOF_OF_WORK, LDK keeps its best block', async () => {
    liar.lie({ kind: 'bad-pow' });
    expect(await syncCode(a)).toBe('BAD_PROOF_OF_WORK');
    expect(await syncCode(b)).toBe('SOURCES_DISAGREE'); // its tip differs from the second source's
    for (const node of [a, b]) expect(confirmations(node)).toBe(1);

    liar.lie({ kind: 'honest' });
    for (const node of [a, b]) {
      expect(await syncCode(node)).toBe('ok');
      expect(confirmations(node)).toBe(3);
      expect(node.chainWatch().failure).toBeUndefined();
    }
  });
});
