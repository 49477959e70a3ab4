// Gossip and routes: the network graph and scorer (read at start, persisted periodically), our
// node_announcement, what the graph holds, and paths found on it (routing.ts).
import * as ldk from 'lightningdevkit';
import { NodeError } from './errors.ts';
import type { EventBus } from './events.ts';
import type { Retainer } from './ldk/callbacks.ts';
import { withLdk } from './ldk/free.ts';
import { bool, describeLdkError, errorOf, isNullPointer, someOf, toHex } from './ldk/values.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { CommitQueue } from './persist/commit-queue.ts';
import { GRAPH_KEY, SCORER_KEY } from './persist/keys.ts';
import { type ForwardingPeers, type FoundPath, findRoute, type RouteRequest } from './routing.ts';

const NODE_ANNOUNCEMENT_EVERY_MS = 60 * 60_000;

export interface GraphSummary {
  /**
   * Announced channels; `oneToTwo` / `twoToOne` say whether we hold node1's / node2's channel_update,
   * without which a router cannot use that direction.
   */
  channels: Array<{
    shortChannelId: bigint;
    node1: string;
    node2: string;
    capacitySat: bigint | undefined;
    oneToTwo: boolean;
    twoToOne: boolean;
  }>;
  /** Nodes in the graph; `alias` only for those whose node_announcement we have. */
  nodes: Array<{ nodeId: string; announced: boolean; alias: string | undefined }>;
}

export interface GossipContext {
  channelManager: ldk.ChannelManager;
  peerManager: ldk.PeerManager;
  graph: ldk.NetworkGraph;
  scorer: ldk.ProbabilisticScorer;
  logger: ldk.Logger;
  queue: CommitQueue;
  life: Lifecycle;
  now: () => number;
  random: (length: number) => Uint8Array;
  wake: () => void;
  /** Node announcement alias (≤ 32 bytes UTF-8) and IPv4 addresses. */
  alias: string | undefined;
  announceAddresses: Array<{ host: string; port: number }> | undefined;
  forwardingPeers: ForwardingPeers;
}

export class Gossip {
  /** Public channels (scids) in our graph when we last sent a node_announcement, and when. */
  private announced = { scids: '', atMs: 0 };

  constructor(private readonly c: GossipContext) {}

  findRoute(request: RouteRequest): FoundPath[] {
    this.c.life.assertRunning();
    return findRoute(
      {
        channelManager: this.c.channelManager,
        graph: this.c.graph,
        scorer: this.c.scorer,
        logger: this.c.logger,
        random: this.c.random,
        forwardingPeers: this.c.forwardingPeers,
      },
      request,
    );
  }

  summary(): GraphSummary {
    const view = this.c.graph.read_only();
    try {
      const channels: GraphSummary['channels'] = [];
      for (const scid of view.list_channels()) {
        const info = view.channel(scid);
        if (isNullPointer(info)) continue;
        channels.push({
          shortChannelId: scid,
          node1: toHex(info.get_node_one().as_slice()),
          node2: toHex(info.get_node_two().as_slice()),
          capacitySat: someOf<bigint>(info.get_capacity_sats()),
          oneToTwo: !isNullPointer(info.get_one_to_two()),
          twoToOne: !isNullPointer(info.get_two_to_one()),
        });
      }
      const nodes: GraphSummary['nodes'] = [];
      for (const id of view.list_nodes()) {
        const info = view.node(id);
        const announcement = isNullPointer(info)
          ? undefined
          : someOf<ldk.NodeAnnouncementInfo>(info.get_announcement_info());
        nodes.push({
          nodeId: toHex(id.as_slice()),
          announced: announcement !== undefined,
          alias: announcement ? aliasText(announcement.alias().get_a()) : undefined,
        });
      }
      return { channels, nodes };
    } finally {
      // the view holds the graph's read lock until freed (its finalizer throws instead of freeing)
      view.free();
    }
  }

  /**
   * LDK relays a node_announcement only for nodes with an announced channel: send ours once our
   * public channels are in the graph, again when that set changes, and hourly.
   */
  announceNodeIfDue(): void {
    if (this.c.life.stopped) return;
    const scids: bigint[] = [];
    const view = this.c.graph.read_only();
    try {
      // our announced channels are those with the forwarding peers (an LSP's thousands of private
      // channels are not listed every 2 s)
      withLdk((own) => {
        for (const c of this.c.forwardingPeers.channels(own)) {
          const scid = someOf<bigint>(own(c.get_short_channel_id()));
          if (!bool(c.get_is_announced()) || scid === undefined) continue;
          if (!isNullPointer(own(view.channel(scid)))) scids.push(scid);
        }
      });
    } finally {
      view.free();
    }
    if (scids.length === 0) return;
    const key = scids.sort().join(',');
    const nowMs = this.c.now();
    if (key === this.announced.scids && nowMs - this.announced.atMs < NODE_ANNOUNCEMENT_EVERY_MS) return;
    this.announced = { scids: key, atMs: nowMs };
    const alias = new Uint8Array(32);
    alias.set(new TextEncoder().encode(this.c.alias ?? '').slice(0, 32));
    const addresses = (this.c.announceAddresses ?? []).map((a) =>
      ldk.SocketAddress.constructor_tcp_ip_v4(ipv4Bytes(a.host), a.port),
    );
    this.c.peerManager.broadcast_node_announcement(new Uint8Array([0x33, 0x66, 0x99]), alias, addresses);
    this.c.wake();
  }

  persist(): void {
    this.c.queue.write(GRAPH_KEY, this.c.graph.write());
    this.c.queue.write(SCORER_KEY, this.c.scorer.write());
    this.c.wake();
  }
}

export interface GraphParts {
  network: ldk.Network;
  keys: ldk.KeysManager;
  logger: ldk.Logger;
  /** Says when a stored graph or scorer is unreadable (the node starts with a fresh one). */
  bus: EventBus;
  retainer: Retainer;
}

/** The network graph and scorer as stored (or fresh), and the routers LDK finds paths with on them. */
export function openGraph(
  data: Map<string, Uint8Array>,
  p: GraphParts,
): {
  graph: ldk.NetworkGraph;
  scorer: ldk.ProbabilisticScorer;
  router: ldk.DefaultRouter;
  messageRouter: ldk.DefaultMessageRouter;
} {
  const { retainer, logger, keys } = p;
  const graph = retainer.keep(readGraph(data.get(GRAPH_KEY), p.network, logger, p.bus));
  const decay = ldk.ProbabilisticScoringDecayParameters.constructor_default();
  const scorer = retainer.keep(readScorer(data.get(SCORER_KEY), decay, graph, logger, p.bus));
  const lockable = retainer.keep(ldk.MultiThreadedLockableScore.constructor_new(scorer.as_Score()));
  const router = retainer.keep(
    ldk.DefaultRouter.constructor_new(
      graph,
      logger,
      keys.as_EntropySource(),
      lockable.as_LockableScore(),
      ldk.ProbabilisticScoringFeeParameters.constructor_default(),
    ),
  );
  const messageRouter = retainer.keep(
    ldk.DefaultMessageRouter.constructor_new(graph, keys.as_EntropySource()),
  );
  return { graph, scorer, router, messageRouter };
}

/** The stored network graph, or an empty one when there is none or it is unreadable (said on `bus`). */
function readGraph(
  bytes: Uint8Array | undefined,
  network: ldk.Network,
  logger: ldk.Logger,
  bus: EventBus,
): ldk.NetworkGraph {
  if (bytes) {
    const read = ldk.NetworkGraph.constructor_read(bytes, logger);
    if (bool(read.is_ok())) return (read as unknown as { res: ldk.NetworkGraph }).res;
    bus.emit({
      kind: 'error',
      code: 'RESTORE_FAILED',
      message: `network graph unreadable (${describeLdkError(errorOf(read))}); starting empty`,
    });
  }
  return ldk.NetworkGraph.constructor_new(network, logger);
}

/** The stored scorer, or a fresh one when there is none or it is unreadable (said on `bus`). */
function readScorer(
  bytes: Uint8Array | undefined,
  decay: ldk.ProbabilisticScoringDecayParameters,
  graph: ldk.NetworkGraph,
  logger: ldk.Logger,
  bus: EventBus,
): ldk.ProbabilisticScorer {
  if (bytes) {
    const read = ldk.ProbabilisticScorer.constructor_read(bytes, decay, graph, logger);
    if (bool(read.is_ok())) return (read as unknown as { res: ldk.ProbabilisticScorer }).res;
    bus.emit({ kind: 'error', code: 'RESTORE_FAILED', message: 'scorer unreadable; starting fresh' });
  }
  return ldk.ProbabilisticScorer.constructor_new(decay, graph, logger);
}

/** A node alias: UTF-8 up to the first NUL. */
function aliasText(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.slice(0, end));
}

function ipv4Bytes(host: string): Uint8Array {
  const parts = host.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new NodeError('INVALID_INPUT', `"announceAddresses" expected IPv4 hosts, got ${host}`);
  return Uint8Array.from(parts);
}
