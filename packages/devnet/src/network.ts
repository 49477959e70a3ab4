// The devnet's "public Lightning network": a router and a merchant, real LDK nodes (@lpw/node) with
// an announced channel funded on the devnet chain, listening on TCP, so gossip and multi-hop routing
// are real in development and tests. Its state lives as long as the devnet's chain does (memory).
import { createNode, type LightningNode, MemoryStore } from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import { listenTcp, type TcpListener, tcp } from '@lpw/node/tcp';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import type { Devnet } from './devnet.ts';

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
    const fundingTxid = fundingTxo.split(':')[0]!;
    await waitUntil(() => devnet.chain.mempool.get(fundingTxid) !== undefined, 'funding broadcast');
    devnet.mine(6);
    await Promise.all([router.node.syncChain(), merchant.node.syncChain()]);
    const channel = () => router.node.listChannels().find((ch) => ch.peerId === merchant.nodeId);
    await waitUntil(() => channel()?.isUsable === true && channel()?.isAnnounced === true, 'channel usable');
    return { router, merchant, channelScid: channel()!.shortChannelId!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`devnet network: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
