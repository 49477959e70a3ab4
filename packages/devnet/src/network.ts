// The devnet's "public Lightning network": a router and a merchant, real LDK nodes (@lpw/node) with
// an announced channel funded on the devnet chain, listening on TCP, so gossip and multi-hop routing
// are real in development and tests. Its state lives as long as the devnet's chain does (memory).

import { type Devnet, fundingBroadcast, waitUntil } from '@lpw/devnet-chain';
import { createNode, type LightningNode, MemoryStore } from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import { listenTcp, type TcpListener, tcp } from '@lpw/node/tcp';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

export interface PublicPeer {
  node: LightningNode;
  nodeId: string;
  host: string;
  port: number;
  /** `nodeId@host:port`, the form Lightning peers are given in. */
  uri: string;
}

export interface PublicNetwork {
  router: PublicPeer;
  merchant: PublicPeer;
  /** The announced router–merchant channel's short channel id. */
  channelScid: bigint;
  stop(): Promise<void>;
}

export interface PublicNetworkOptions {
  host?: string;
  routerPort?: number;
  merchantPort?: number;
  /** Router → merchant channel size; the router keeps it all, so the merchant can receive at once. */
  channelSat?: bigint;
  /** Sats the faucet gives the router's on-chain wallet (it opens channels to LSPs from it too). */
  routerFundsSat?: bigint;
}

/** Starts the router and the merchant on `devnet` (which must serve Esplora) and links them. */
export async function startPublicNetwork(
  devnet: Devnet,
  options: PublicNetworkOptions = {},
): Promise<PublicNetwork> {
  if (!devnet.esploraUrl) throw new Error('startPublicNetwork: the devnet must serve its Esplora API');
  await initLdkNode();
  const host = options.host ?? '127.0.0.1';
  const started: Array<{ node: LightningNode; listener: TcpListener; unsubscribe: () => void }> = [];
  const stop = async () => {
    for (const { node, listener, unsubscribe } of started.reverse()) {
      unsubscribe();
      await listener.close();
      await node.stop();
    }
  };

  const startPeer = async (alias: string, port: number): Promise<PublicPeer> => {
    const node = await createNode({
      // deterministic identities, so a devnet with the same seed has the same peers
      seed: sha256(utf8ToBytes(`lpw-devnet/${alias}/${devnet.faucet.address}`)),
      network: 'regtest',
      role: 'router',
      store: new MemoryStore(),
      chain: { esploraUrl: devnet.esploraUrl },
      alias,
      announceAddresses: [{ host, port }],
      logLevel: 'error',
    });
    const listener = await listenTcp(node, port, { host });
    // follow the chain block by block rather than on a timer: the devnet tells us when it moves
    const unsubscribe = devnet.chain.onBlock(() => void node.syncChain().catch(() => {}));
    started.push({ node, listener, unsubscribe });
    return {
      node,
      nodeId: node.nodeId,
      host,
      port: listener.port,
      uri: `${node.nodeId}@${host}:${listener.port}`,
    };
  };

  try {
    const router = await startPeer('devnet-router', options.routerPort ?? 0);
    const merchant = await startPeer('devnet-merchant', options.merchantPort ?? 0);
    // Announce on the addresses we actually got (port 0 picks one).
    devnet.fund(await router.node.newAddress(), options.routerFundsSat ?? 10_000_000n, {
      confirmations: 1,
    });
    await router.node.syncChain();
    await merchant.node.connect(router.nodeId, tcp(host, router.port));
    const pending = router.node.waitFor('channel-pending', (e) => e.peerId === merchant.nodeId, 15_000);
    router.node.openChannel({
      peerId: merchant.nodeId,
      capacitySat: options.channelSat ?? 5_000_000n,
      announce: true,
    });
    const { fundingTxo } = await pending;
    await fundingBroadcast(devnet.chain, fundingTxo);
    devnet.mine(6);
    await Promise.all([router.node.syncChain(), merchant.node.syncChain()]);
    const channel = () => router.node.listChannels().find((ch) => ch.peerId === merchant.nodeId);
    await waitUntil(
      'channel usable',
      () => channel()?.isUsable === true && channel()?.isAnnounced === true,
      30_000,
    );
    const channelScid = channel()!.shortChannelId!;
    await spreadChannelGossip(devnet, [router.node, merchant.node], [channelScid]);
    return { router, merchant, channelScid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Returns once every node in `nodes` (both parties of each channel among them) holds each of the
 * announced channels `scids` with both directions' channel_update, i.e. can route over it both ways.
 *
 * It mines blocks on the way, because LDK 0.1 loses one direction at first: the party that completes
 * the announcement first sends its announcement_signatures and its channel_update together; the
 * other party handles both in one read, and the update meets a graph that does not hold the channel
 * yet (its ChannelManager only queued its own channel_announcement) — "Couldn't find channel for
 * update", dropped, never relayed (rust-lightning issue 2479). LDK heals it by broadcasting every
 * announced channel's channel_announcement and own channel_update again at each block whose height
 * is the funding's confirmation height modulo 6 (hourly on a real chain). The devnet mines only on
 * demand, so we mine up to that block, once both parties have the announcement, block by block.
 */
export async function spreadChannelGossip(
  devnet: Devnet,
  nodes: LightningNode[],
  scids: bigint[],
  timeoutMs = 60_000,
): Promise<void> {
  const inGraph = (node: LightningNode, scid: bigint) =>
    node.graphSummary().channels.find((ch) => ch.shortChannelId === scid);
  const parties = (scid: bigint) =>
    nodes.filter((n) => n.listChannels().some((ch) => ch.shortChannelId === scid));
  await waitUntil(
    'both parties to complete the channel announcements',
    () => scids.every((scid) => parties(scid).length === 2 && parties(scid).every((n) => inGraph(n, scid))),
    timeoutMs,
  );
  const missing = () =>
    nodes.flatMap((n) =>
      scids
        .filter((scid) => {
          const ch = inGraph(n, scid);
          return ch?.oneToTwo !== true || ch.twoToOne !== true;
        })
        .map((scid) => `${n.nodeId.slice(0, 8)} lacks a direction of ${scid}`),
    );
  if (missing().length === 0) return;
  // the next rebroadcast height of each channel: above the tip, ≡ its confirmation height (mod 6)
  const tip = devnet.chain.tipHeight;
  const blocks = Math.max(
    ...scids.map((scid) => {
      const confirmedAt = Number(scid >> 40n); // a short channel id starts with its block height
      return (((confirmedAt - tip) % 6) + 6) % 6 || 6;
    }),
  );
  // one at a time: a node that syncs several blocks at once sees only the last as its best block
  for (let i = 0; i < blocks; i++) {
    devnet.mine(1);
    await Promise.all(nodes.map((n) => n.syncChain()));
  }
  await waitUntil(
    () => `every graph to hold both directions of the new channels (${missing().join(', ')})`,
    () => missing().length === 0,
    timeoutMs,
  );
}
