// A public Lightning graph the size of mainnet's for the devnet: ~15,000 nodes and ~50,000 channels
// with validly signed channel_announcements, both directions' channel_updates and a
// node_announcement per node, served by a "gossip hub", a real LDK node that is itself node 0 of the
// graph. An LSP that connects to the hub syncs the whole graph over BOLT 7 (the hub backfills every
// peer that asks with gossip_timestamp_filter); one real channel to the hub lets it route into it.
//
// Every channel has its funding output on the devnet chain (`fundGossipGraph`): a P2WSH 2-of-2 of
// its two bitcoin keys with the channel's capacity, 200 to a transaction, 10 transactions to a block
// from height 1,000, so a node that checks announcements against the chain (packages/node's
// gossip-utxo.ts) accepts them. The places are fixed by the channel's index, not by the chain, so a
// cached graph fits any fresh devnet the outputs are then put on.
//
// The graph is preferential attachment (each new node links to a well-linked one, then the rest of
// the channels pick one end by degree), which gives mainnet's few large hubs and long tail. Signing
// and checking ~215,000 signatures takes minutes on a busy machine, so the hub's graph (LDK's own
// serialization, the signed messages inside it) is cached under the OS temp dir, keyed by the seed
// and the size, and reused for a week (LDK drops channel_updates older than two weeks).
import { createECDH, createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Devnet, REGTEST } from '@lpw/devnet-chain';
import { createNode, GRAPH_KEY, type LightningNode, MemoryStore } from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import { listenTcp } from '@lpw/node/tcp';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes as concat, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { p2wpkh, Transaction } from '@scure/btc-signer';
import * as ldk from 'lightningdevkit';

export interface GraphShape {
  /** Names the graph: the same seed and size give the same keys, channels and cache file. */
  seed: string;
  nodes: number;
  channels: number;
}

/** Mainnet's public graph, roughly (2025). */
export const MAINNET_SHAPE = { nodes: 15_000, channels: 50_000 } as const;

export interface GossipHub {
  node: LightningNode;
  nodeId: string;
  host: string;
  port: number;
  uri: string;
  /** What the hub's graph holds: announced channels, and nodes with a node_announcement. */
  channels: number;
  nodes: number;
  /** Whether the graph came from the cache file, and how long making (or reading) it took. */
  fromCache: boolean;
  buildMs: number;
  stop(): Promise<void>;
}

const CACHE_MAX_AGE_MS = 7 * 24 * 3_600_000;
/** Where the funding outputs are: blocks from this height on, 10 transactions of 200 outputs each. */
export const FUNDING_BASE_HEIGHT = 1_000;
const OUTPUTS_PER_TX = 200;
const TXS_PER_BLOCK = 10;
const CHANNELS_PER_BLOCK = OUTPUTS_PER_TX * TXS_PER_BLOCK;
const SECP_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * Starts the gossip hub on `devnet` with the graph `shape` describes (generated, or read from the
 * cache), listening on TCP. Peers that connect and ask for gossip get the whole graph.
 */
export async function startGossipHub(
  devnet: Pick<Devnet, 'esploraUrl'>,
  shape: GraphShape,
  options: { host?: string; port?: number; cacheDir?: string } = {},
): Promise<GossipHub> {
  if (!Number.isInteger(shape.nodes) || shape.nodes < 2)
    throw new RangeError(`"nodes" expected an integer ≥ 2, got ${shape.nodes}`);
  if (!Number.isInteger(shape.channels) || shape.channels < shape.nodes - 1)
    throw new RangeError(
      `"channels" expected an integer ≥ nodes − 1 (a connected graph), got ${shape.channels}`,
    );
  if (!devnet.esploraUrl) throw new Error('startGossipHub: the devnet must serve its Esplora API');
  await initLdkNode();
  const host = options.host ?? '127.0.0.1';
  const cacheFile = join(
    options.cacheDir ?? tmpdir(),
    `lpw-devnet-graph-${bytesToHex(sha256(utf8ToBytes(`v2/${shape.seed}/${shape.nodes}/${shape.channels}`))).slice(0, 24)}.bin`,
  );
  const cached =
    existsSync(cacheFile) && Date.now() - statSync(cacheFile).mtimeMs < CACHE_MAX_AGE_MS
      ? readFileSync(cacheFile)
      : undefined;
  const started = performance.now();
  const node = await createNode({
    seed: sha256(utf8ToBytes(`lpw-devnet/gossip-hub/${shape.seed}`)),
    network: 'regtest',
    role: 'router',
    store: new MemoryStore(cached ? { initial: new Map([[GRAPH_KEY, new Uint8Array(cached)]]) } : {}),
    chain: { esploraUrl: devnet.esploraUrl },
    alias: 'devnet-gossip-hub',
    logLevel: 'error',
  });
  const listener = await listenTcp(node, options.port ?? 0, { host });
  const stop = async () => {
    await listener.close();
    await node.stop();
  };
  try {
    let fromCache = cached !== undefined && graphCount(node).channels >= shape.channels;
    if (!fromCache) {
      loadGraph(node, shape);
      writeFileSync(cacheFile, node.ldk.networkGraph.write());
      fromCache = false;
    }
    const { channels, nodes } = graphCount(node);
    return {
      node,
      nodeId: node.nodeId,
      host,
      port: listener.port,
      uri: `${node.nodeId}@${host}:${listener.port}`,
      channels,
      nodes,
      fromCache,
      buildMs: Math.round(performance.now() - started),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Announced channels and announced nodes in `node`'s graph (cheaper than graphSummary at this size). */
export function graphCount(node: LightningNode): { channels: number; nodes: number } {
  const view = node.ldk.networkGraph.read_only();
  try {
    return { channels: view.list_channels().length, nodes: view.list_nodes().length };
  } finally {
    view.free();
  }
}

/**
 * Puts the funding outputs of `shape`'s channels on the devnet chain, where their short channel ids
 * point: mines empty blocks up to height 998, funds a key of the graph's own in block 999, then one
 * block per 2,000 channels from height 1,000, each holding only the graph's 10 funding transactions
 * (200 P2WSH 2-of-2 outputs each, the change last). Call it once per devnet, before the chain reaches
 * height 999 and with nothing else in the mempool (the positions are the SCIDs); the hub itself does
 * not need it (its graph was checked by signature only), the nodes that sync from it do.
 */
export function fundGossipGraph(devnet: Pick<Devnet, 'chain' | 'fund' | 'mine'>, shape: GraphShape): void {
  const { chain } = devnet;
  if (chain.tipHeight >= FUNDING_BASE_HEIGHT - 1)
    throw new RangeError(
      `fundGossipGraph: the chain is at height ${chain.tipHeight}; the graph's outputs go from ${FUNDING_BASE_HEIGHT}`,
    );
  const bitcoinKeys = Array.from({ length: shape.nodes }, (_, i) => publicKeyOf(generatedSecret(shape, i)));
  const plan = planChannels(shape);
  const funder = sha256(utf8ToBytes(`lpw-devnet/graph-funder/${shape.seed}`));
  const funderPayment = p2wpkh(publicKeyOf(funder), REGTEST);
  const funderScript = funderPayment.script;
  // ~8.7 kvB a transaction at 2 sat/vB: well above the relay floor, whatever the devnet's is
  const feeSat = BigInt(
    Math.ceil((11 + 68 + 43 * (OUTPUTS_PER_TX + 1)) * 2 * Math.max(1, chain.minRelayFeeRate)),
  );
  const txCount = Math.ceil(plan.length / OUTPUTS_PER_TX);
  const totalSat = plan.reduce((n, c) => n + c.capacitySat, 0n) + feeSat * BigInt(txCount);
  devnet.mine(FUNDING_BASE_HEIGHT - 2 - chain.tipHeight);
  const funding = devnet.fund(funderPayment.address!, totalSat, { confirmations: 1 });
  const fundingOutputs = chain.getTransaction(funding)!.tx.outputs;
  let coin = {
    txid: funding,
    vout: fundingOutputs.findIndex((o) => bytesToHex(o.script) === bytesToHex(funderScript)),
    valueSat: totalSat,
  };
  for (let first = 0; first < plan.length; first += CHANNELS_PER_BLOCK) {
    if (chain.mempool.entries.size > 0)
      throw new Error(
        "fundGossipGraph: the mempool must be empty (the funding transactions' places are the SCIDs)",
      );
    const txids: string[] = [];
    for (let at = first; at < Math.min(plan.length, first + CHANNELS_PER_BLOCK); at += OUTPUTS_PER_TX) {
      const tx = new Transaction();
      tx.addInput({
        txid: coin.txid,
        index: coin.vout,
        witnessUtxo: { script: funderScript, amount: coin.valueSat },
      });
      let spentSat = feeSat;
      for (const channel of plan.slice(at, at + OUTPUTS_PER_TX)) {
        const [a, b] = channel.ends;
        tx.addOutput({
          script: fundingScript(bitcoinKeys[a]!, bitcoinKeys[b]!),
          amount: channel.capacitySat,
        });
        spentSat += channel.capacitySat;
      }
      const changeSat = coin.valueSat - spentSat;
      if (changeSat > 0n) tx.addOutput({ script: funderScript, amount: changeSat });
      tx.sign(funder);
      tx.finalize();
      const txid = chain.submitTransaction(tx.extract());
      txids.push(txid);
      coin = { txid, vout: tx.outputsLength - 1, valueSat: changeSat };
    }
    const [block] = devnet.mine(1);
    const placed = block!.txs.slice(1).map((t) => t.txid);
    if (placed.join() !== txids.join())
      throw new Error(`fundGossipGraph: block ${block!.height} holds other transactions than the graph's`);
  }
}

/** BOLT 3's funding output: P2WSH of 2 <lesser key> <greater key> 2 OP_CHECKMULTISIG. */
export function fundingScript(keyA: Uint8Array, keyB: Uint8Array): Uint8Array {
  const [k1, k2] = compare(keyA, keyB) < 0 ? [keyA, keyB] : [keyB, keyA];
  const witnessScript = concat(
    new Uint8Array([0x52, 0x21]),
    k1,
    new Uint8Array([0x21]),
    k2,
    new Uint8Array([0x52, 0xae]),
  );
  return concat(new Uint8Array([0x00, 0x20]), sha256(witnessScript));
}

const publicKeyOf = (secret: Uint8Array) => secp256k1.getPublicKey(secret, true);

interface GraphKey {
  publicKey: Uint8Array;
  /** BOLT 7's signature of an unsigned message: ECDSA over sha256(sha256(m)), compact, low-S. */
  sign(
    kind: 'channel_announcement' | 'channel_update' | 'node_announcement',
    unsigned: Uint8Array,
  ): Uint8Array;
}

interface ChannelPlan {
  /** The two ends, node indexes (the one with the lesser node key becomes node_id_1, BOLT 7). */
  ends: [number, number];
  scid: bigint;
  capacitySat: bigint;
  /** Both directions' channel_update fields, direction 0 (from `one`) first. */
  updates: Array<{ ageSecs: number; cltvDelta: number; feeBaseMsat: number; feePpm: number }>;
}

/** The channels of `shape` in order, unsigned: what loadGraph signs and fundGossipGraph puts on the chain. */
function planChannels(shape: GraphShape): ChannelPlan[] {
  const random = prng(sha256(utf8ToBytes(`lpw-devnet/graph/${shape.seed}`)));
  // every channel's two ends, one entry per end: picking a uniform entry picks a node by degree
  const ends: number[] = [];
  const pair = (i: number): [number, number] => {
    if (i < shape.nodes - 1) return [i + 1, ends.length ? ends[Math.floor(random() * ends.length)]! : 0];
    for (;;) {
      const a = Math.floor(random() * shape.nodes);
      const b = ends[Math.floor(random() * ends.length)]!;
      if (a !== b) return [a, b];
    }
  };
  const plan: ChannelPlan[] = [];
  for (let i = 0; i < shape.channels; i++) {
    const [a, b] = pair(i);
    ends.push(a, b);
    const capacitySat = BigInt(100_000 + Math.floor(random() * 9_900_000));
    const updates = [0, 1].map(() => ({
      ageSecs: Math.floor(random() * 3_600),
      cltvDelta: 40 + Math.floor(random() * 104),
      feeBaseMsat: Math.floor(random() * 1_000),
      feePpm: Math.floor(random() * 500),
    }));
    plan.push({ ends: [a, b], scid: fundingScid(i), capacitySat, updates });
  }
  return plan;
}

/** Channel `i`'s funding output: block 1,000 + i / 2,000, transaction 1 + (i % 2,000) / 200, output i % 200. */
function fundingScid(i: number): bigint {
  const height = FUNDING_BASE_HEIGHT + Math.floor(i / CHANNELS_PER_BLOCK);
  const txIndex = 1 + Math.floor((i % CHANNELS_PER_BLOCK) / OUTPUTS_PER_TX); // 0 is the coinbase
  return (BigInt(height) << 40n) | (BigInt(txIndex) << 16n) | BigInt(i % OUTPUTS_PER_TX);
}

/** Generated node `i`'s secret (node 0, the hub, has its own node key: this is then its bitcoin key). */
const generatedSecret = (shape: GraphShape, i: number) => sha256(utf8ToBytes(`${shape.seed}/node/${i}`));

/** Generates the signed gossip of `shape` and puts it in the hub's graph (LDK checks every signature). */
function loadGraph(hub: LightningNode, shape: GraphShape): void {
  const chainHash = ldk.BestBlock.constructor_from_network(ldk.Network.LDKNetwork_Regtest).get_block_hash();
  const keys: GraphKey[] = [hubKey(hub)];
  for (let i = 1; i < shape.nodes; i++) keys.push(opensslKey(generatedSecret(shape, i)));
  // a generated node's bitcoin key is its node key (half the signing; BOLT 7 does not forbid it);
  // the hub's is generated too, so the funding scripts follow from the seed alone
  const bitcoinKeys = [opensslKey(generatedSecret(shape, 0)), ...keys.slice(1)];
  const graph = hub.ldk.networkGraph;
  const nowSecs = Math.floor(Date.now() / 1000);
  for (const channel of planChannels(shape)) {
    const [a, b] = channel.ends;
    const [first, second] = compare(keys[a]!.publicKey, keys[b]!.publicKey) < 0 ? [a, b] : [b, a];
    const [one, two] = [keys[first]!, keys[second]!];
    const [bitcoinOne, bitcoinTwo] = [bitcoinKeys[first]!, bitcoinKeys[second]!];
    announce(graph, chainHash, channel.scid, [one, two], [bitcoinOne, bitcoinTwo]);
    const capacityMsat = channel.capacitySat * 1_000n;
    for (const [direction, origin] of [one, two].entries()) {
      const fields = channel.updates[direction]!;
      const update = concat(
        chainHash,
        u64(channel.scid),
        u32(nowSecs - fields.ageSecs),
        new Uint8Array([1, direction]), // message_flags: htlc_maximum_msat present; channel_flags: direction
        u16(fields.cltvDelta),
        u64(1_000n),
        u32(fields.feeBaseMsat),
        u32(fields.feePpm),
        u64((capacityMsat * 99n) / 100n),
      );
      apply(
        'channel_update',
        ldk.ChannelUpdate.constructor_read(concat(origin.sign('channel_update', update), update)),
        (m: ldk.ChannelUpdate) => graph.update_channel(m),
      );
    }
  }
  for (const [i, key] of keys.entries()) {
    if (i === 0) continue; // the hub announces itself
    const alias = new Uint8Array(32);
    alias.set(utf8ToBytes(`devnet-graph-${i}`));
    const unsigned = concat(
      u16(0),
      u32(nowSecs),
      key.publicKey,
      new Uint8Array([i & 0xff, (i >> 8) & 0xff, 0x80]),
      alias,
      u16(0),
    );
    apply(
      'node_announcement',
      ldk.NodeAnnouncement.constructor_read(concat(key.sign('node_announcement', unsigned), unsigned)),
      (m: ldk.NodeAnnouncement) => graph.update_node_from_announcement(m),
    );
  }
}

/** Signs a channel_announcement (`nodes` and `bitcoinKeys` in node_id order) and puts it in `graph` unchecked. */
function announce(
  graph: ldk.NetworkGraph,
  chainHash: Uint8Array,
  scid: bigint,
  nodes: [GraphKey, GraphKey],
  bitcoinKeys: [GraphKey, GraphKey],
): void {
  const unsigned = concat(
    u16(0),
    chainHash,
    u64(scid),
    nodes[0].publicKey,
    nodes[1].publicKey,
    bitcoinKeys[0].publicKey,
    bitcoinKeys[1].publicKey,
  );
  // a node whose bitcoin key is its node key signs once for both
  const signed = new Map<GraphKey, Uint8Array>();
  const signatures = [...nodes, ...bitcoinKeys].map((key) => {
    let signature = signed.get(key);
    if (!signature) {
      signature = key.sign('channel_announcement', unsigned);
      signed.set(key, signature);
    }
    return signature;
  });
  apply(
    'channel_announcement',
    ldk.ChannelAnnouncement.constructor_read(concat(...signatures, unsigned)),
    (m: ldk.ChannelAnnouncement) => graph.update_channel_from_announcement_no_lookup(m),
  );
}

/**
 * What a lying peer serves: puts in the hub's graph a channel between generated nodes `a` and `b`
 * (indexes ≥ 1) at any short channel id, validly signed, its funding output never looked at. A
 * node that checks the chain must refuse it when nothing, or something else, is at that place.
 */
export function announceUncheckedChannel(
  hub: GossipHub,
  shape: GraphShape,
  a: number,
  b: number,
  scid: bigint,
): void {
  if (!(a >= 1 && b >= 1 && a < shape.nodes && b < shape.nodes && a !== b))
    throw new RangeError(
      `"a" and "b" expected two generated nodes (1 to ${shape.nodes - 1}), got ${a} and ${b}`,
    );
  const [one, two] = [opensslKey(generatedSecret(shape, a)), opensslKey(generatedSecret(shape, b))].sort(
    (x, y) => compare(x.publicKey, y.publicKey),
  ) as [GraphKey, GraphKey];
  const chainHash = ldk.BestBlock.constructor_from_network(ldk.Network.LDKNetwork_Regtest).get_block_hash();
  announce(hub.node.ldk.networkGraph, chainHash, scid, [one, two], [one, two]);
}

/** Reads a message LDK parsed, applies it to the graph, and says why if LDK refused it. */
function apply<M>(
  what: string,
  read: { is_ok(): boolean },
  toGraph: (message: M) => { is_ok(): boolean },
): void {
  if (!read.is_ok()) throw new Error(`generated ${what} does not parse`);
  const result = toGraph((read as unknown as { res: M }).res);
  if (!result.is_ok()) {
    const err = (result as unknown as { err: ldk.LightningError }).err;
    throw new Error(`the graph refused a generated ${what}: ${err.get_err()}`);
  }
}

/** The hub's own node key signs through LDK's NodeSigner (its secret stays inside the KeysManager). */
function hubKey(hub: LightningNode): GraphKey {
  const signer = hub.ldk.keysManager.as_NodeSigner();
  return {
    publicKey: hexToBytes(hub.nodeId),
    sign(kind, unsigned) {
      const message =
        kind === 'channel_announcement'
          ? ldk.UnsignedGossipMessage.constructor_channel_announcement(
              okOf(ldk.UnsignedChannelAnnouncement.constructor_read(unsigned), kind),
            )
          : ldk.UnsignedGossipMessage.constructor_channel_update(
              okOf(ldk.UnsignedChannelUpdate.constructor_read(unsigned), kind),
            );
      return okOf<Uint8Array>(signer.sign_gossip_message(message), `the hub's ${kind} signature`);
    },
  };
}

/** A generated node's key, signing with OpenSSL (several times faster than pure JS here). */
function opensslKey(secret: Uint8Array): GraphKey {
  const ecdh = createECDH('secp256k1');
  ecdh.setPrivateKey(secret);
  const full = ecdh.getPublicKey();
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  const key: KeyObject = createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'EC',
      crv: 'secp256k1',
      d: b64(secret),
      x: b64(full.subarray(1, 33)),
      y: b64(full.subarray(33)),
    },
  });
  return {
    publicKey: new Uint8Array(ecdh.getPublicKey(null, 'compressed')),
    // BOLT 7 signs sha256(sha256(m)); OpenSSL hashes what it is handed once more, so it gets sha256(m)
    sign: (_kind, unsigned) =>
      lowS(new Uint8Array(sign('sha256', sha256(unsigned), { key, dsaEncoding: 'ieee-p1363' }))),
  };
}

function okOf<T>(result: { is_ok(): boolean }, what: string): T {
  if (!result.is_ok()) throw new Error(`${what}: LDK refused it`);
  return (result as unknown as { res: T }).res;
}

function lowS(signature: Uint8Array): Uint8Array {
  const s = BigInt(`0x${bytesToHex(signature.subarray(32))}`);
  if (s <= SECP_N >> 1n) return signature;
  const out = signature.slice();
  out.set(hexToBytes((SECP_N - s).toString(16).padStart(64, '0')), 32);
  return out;
}

/** mulberry32: fast, and the same sequence for the same seed. */
function prng(seed: Uint8Array): () => number {
  let state = new DataView(seed.buffer, seed.byteOffset).getUint32(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

const u16 = (n: number) => new Uint8Array([(n >> 8) & 0xff, n & 0xff]);
const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
};
const u64 = (n: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n);
  return b;
};
