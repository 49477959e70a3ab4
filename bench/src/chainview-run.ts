// The checked chain view's cost (packages/node chain/checked.ts): wallet nodes reading the devnet's
// Esplora plain, checked (headers from genesis, merkle proofs), and checked and compared with a
// second Esplora. Measured: createNode to ready (a fresh wallet, MemoryStore), one sync per new
// block, and the header chain alone per header (what a first start from a checkpoint costs).
// CPU is this process's, which also runs the devnet's servers: the differences are what counts.
import { type Devnet, startDevnet } from '@lpw/devnet';
import {
  type ChainSource,
  checkedSource,
  createNode,
  esploraSource,
  type LightningNode,
  MemoryStore,
  type NodeOptions,
} from '@lpw/node';
import { decodeHeader, HeaderChain, NETWORK_RULES } from '../../packages/node/src/chain/headers.ts';
import { merkleProofHolds } from '../../packages/node/src/chain/merkle.ts';
import { initWasm } from './product.ts';
import { cpuMsSince, percentile } from './stats.ts';

type Variant = 'plain' | 'checked' | 'compared';
const VARIANTS: Variant[] = ['plain', 'checked', 'compared'];

interface Sample {
  wallMs: number;
  cpuMs: number;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, Sample]> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  return [value, { wallMs: performance.now() - t0, cpuMs: cpuMsSince(cpu) }];
}

const p50 = (samples: Sample[], key: keyof Sample) =>
  Math.round(
    percentile(
      samples.map((s) => s[key]),
      50,
    ) * 10,
  ) / 10;

export async function measureChainView(startRuns: number, blocks: number, headerSpan: number) {
  await initWasm();
  const devnet: Devnet = await startDevnet({ seed: 'bench-chainview' });
  const second = await devnet.startEsplora();
  const chainOf = (variant: Variant): NodeOptions['chain'] =>
    variant === 'plain'
      ? { esploraUrl: devnet.esploraUrl }
      : variant === 'checked'
        ? { esploraUrl: devnet.esploraUrl, checked: true }
        : { esploraUrl: devnet.esploraUrl, secondEsploraUrl: second };
  let seedByte = 1;
  const start = (variant: Variant): Promise<LightningNode> =>
    createNode({
      seed: new Uint8Array(32).fill(seedByte++),
      network: 'regtest',
      role: 'wallet',
      store: new MemoryStore(),
      chain: chainOf(variant),
      chainSyncIntervalMs: 0,
      logLevel: 'error',
    });
  const results: Record<string, unknown> = { chainview_start_height: devnet.chain.tipHeight };
  try {
    // start: a fresh wallet each time (the checked view fetches its headers from genesis each time)
    const starts: Record<Variant, Sample[]> = { plain: [], checked: [], compared: [] };
    await (await start('plain')).stop(); // warm-up: module and WASM paths
    for (let run = 0; run < startRuns; run++)
      for (const variant of VARIANTS) {
        const [node, sample] = await timed(() => start(variant));
        starts[variant].push(sample);
        await node.stop();
      }

    // per block: one wallet per variant, each with one confirmed coin (proven once, then cached)
    const nodes = {} as Record<Variant, LightningNode>;
    for (const variant of VARIANTS) {
      nodes[variant] = await start(variant);
      devnet.fund(await nodes[variant].newAddress(), 100_000n, { confirmations: 1 });
      await nodes[variant].syncChain();
    }
    const perBlock: Record<Variant, Sample[]> = { plain: [], checked: [], compared: [] };
    for (let b = 0; b < blocks; b++) {
      devnet.mine(1);
      for (const variant of VARIANTS)
        perBlock[variant].push((await timed(() => nodes[variant].syncChain()))[1]);
    }
    for (const variant of VARIANTS) await nodes[variant].stop();

    // the header chain alone, `headerSpan` headers from genesis (ten per request)
    devnet.mine(Math.max(0, headerSpan - devnet.chain.tipHeight));
    const source: ChainSource = checkedSource({
      primary: esploraSource({ url: devnet.esploraUrl }),
      network: 'regtest',
    });
    const [, headers] = await timed(() => source.tip());
    const perBlockCheck = await chainCheckPerBlock(devnet, Math.min(blocks * 20, devnet.chain.tipHeight));

    for (const variant of VARIANTS) {
      results[`chainview_start_ms_p50_${variant}`] = p50(starts[variant], 'wallMs');
      results[`chainview_start_cpu_ms_p50_${variant}`] = p50(starts[variant], 'cpuMs');
      results[`chainview_block_ms_p50_${variant}`] = p50(perBlock[variant], 'wallMs');
      results[`chainview_block_cpu_ms_p50_${variant}`] = p50(perBlock[variant], 'cpuMs');
    }
    results.chainview_headers = devnet.chain.tipHeight;
    results.chainview_header_us = Math.round((headers.wallMs * 1000) / devnet.chain.tipHeight);
    results.chainview_header_cpu_us = Math.round((headers.cpuMs * 1000) / devnet.chain.tipHeight);
    // the CPU of the checks alone per new block: its header (link, proof of work) and one merkle proof
    // (at a mainnet block's branch depth; the devnet's own shallow blocks apart)
    results.chain_check_ms_per_block = Math.round(perBlockCheck.mainnetMs * 1000) / 1000;
    results.chain_check_ms_per_block_devnet = Math.round(perBlockCheck.devnetMs * 1000) / 1000;
    results.chain_check_merkle_depth = perBlockCheck.depth;
    results.chainview_start_runs = startRuns;
    results.chainview_blocks = blocks;
    return results;
  } finally {
    await devnet.stop();
  }
}

/** A mainnet block of ~3,000 transactions has a merkle branch this deep (the devnet's are shallow). */
const MAINNET_BRANCH_DEPTH = 12;

/**
 * The checks a block costs the wallet, without the network: its header checked onto the chain (link,
 * proof of work) and the merkle proof of one transaction in it, over the last `count` blocks (the
 * proofs fetched first, of each block's last transaction). A devnet block holds a few transactions,
 * so each is also walked up a branch as deep as a mainnet block's (its siblings made up: the cost
 * of a proof is its depth in sha256d, whatever the hashes are).
 */
async function chainCheckPerBlock(devnet: Devnet, count: number) {
  const esplora = esploraSource({ url: devnet.esploraUrl });
  const top = devnet.chain.tipHeight;
  const first = top - count + 1;
  const blocks = [];
  for (let height = first; height <= top; height++) {
    const block = devnet.chain.getBlock(height)!;
    const txid = block.txs[block.txs.length - 1]!.txid;
    const conf = (await esplora.txConfirmation(txid))!;
    blocks.push({ raw: block.header, height, txid, conf });
  }
  const parent = devnet.chain.getBlock(first - 1)!;
  const chain = new HeaderChain(decodeHeader(parent.header, first - 1), NETWORK_RULES.regtest);
  const deepBranch = Array.from({ length: MAINNET_BRANCH_DEPTH }, (_, i) => txidOfIndex(i));
  const cpu = process.cpuUsage();
  for (const { raw, height, txid, conf } of blocks) {
    const header = decodeHeader(raw, height);
    chain.connect([header]);
    if (!merkleProofHolds(txid, conf.merkle!, conf.position, header.merkleRoot))
      throw new Error(`bench: the merkle proof of ${txid} does not hold`);
  }
  const devnetMs = cpuMsSince(cpu) / count;
  const deep = process.cpuUsage();
  for (const { txid, raw, height } of blocks)
    merkleProofHolds(txid, deepBranch, 2 ** MAINNET_BRANCH_DEPTH - 1, decodeHeader(raw, height).merkleRoot);
  const deepProofMs = cpuMsSince(deep) / count;
  const depth = Math.max(...blocks.map((b) => b.conf.merkle!.length));
  return { devnetMs, mainnetMs: devnetMs + deepProofMs, depth };
}

/** A made-up 32-byte hash (display hex) standing in for a merkle sibling. */
const txidOfIndex = (i: number) => i.toString(16).padStart(64, '0');
