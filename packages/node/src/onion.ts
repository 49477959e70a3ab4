// Onion messages (BOLT 4 / BOLT 12): the OnionMessenger that carries offers' invoice requests and
// invoices, with the ChannelManager as its offers handler, and the path finder it sends along.
// Every node forwards onion messages for its peers: the LSP is the introduction node of its
// wallets' offers and relays what they send.
import * as ldk from 'lightningdevkit';
import { type CallbackErrorSink, guard, type Retainer } from './ldk/callbacks.ts';
import { freeLdk } from './ldk/free.ts';
import { bytesEqual, isNullPointer, toHex } from './ldk/values.ts';

/** Longest path a message takes through the graph to reach a blinded path's introduction node. */
const MAX_RELAY_HOPS = 4;

export interface OnionParts {
  channelManager: ldk.ChannelManager;
  keys: ldk.KeysManager;
  logger: ldk.Logger;
  graph: ldk.NetworkGraph;
  /** LDK's own router: it makes the blinded paths (offers, reply paths) the node hands out. */
  messageRouter: ldk.DefaultMessageRouter;
  retainer: Retainer;
  onCallbackError: CallbackErrorSink;
}

export function createOnionMessenger(p: OnionParts): ldk.OnionMessenger {
  const { retainer } = p;
  const ignoring = retainer.keep(ldk.IgnoringMessageHandler.constructor_new());
  return retainer.keep(
    ldk.OnionMessenger.constructor_new(
      p.keys.as_EntropySource(),
      p.keys.as_NodeSigner(),
      p.logger,
      retainer.keep(p.channelManager.as_NodeIdLookUp()),
      relayingMessageRouter(p),
      retainer.keep(p.channelManager.as_OffersMessageHandler()),
      retainer.keep(ignoring.as_AsyncPaymentsMessageHandler()),
      retainer.keep(ignoring.as_DNSResolverMessageHandler()),
      retainer.keep(ignoring.as_CustomOnionMessageHandler()),
    ),
  );
}

/**
 * LDK 0.1's DefaultMessageRouter sends only to a peer, or to a node whose announced address it
 * would connect to (Event::ConnectionNeeded). Neither reaches the nodes here: a wallet keeps no
 * graph and has one peer (its LSP), and an LSP announces no address. So a message to a node that
 * is not a peer goes through peers along announced channels (a breadth-first search of the graph,
 * as onion messages have no fees to weigh), and, when the graph knows no way, through our first
 * peer — a wallet's LSP, which knows the network. Blinded paths are LDK's own.
 */
function relayingMessageRouter(p: OnionParts): ldk.MessageRouter {
  const defaults = p.retainer.keep(p.messageRouter.as_MessageRouter());
  const impl: ldk.MessageRouterInterface = {
    find_path: guard(
      'MessageRouter.find_path',
      (sender: Uint8Array, peers: Uint8Array[], destination: ldk.Destination) => {
        const first = firstNode(destination, p.graph);
        if (!first) return ldk.Result_OnionMessagePathNoneZ.constructor_err();
        const intermediate =
          bytesEqual(first, sender) || peers.some((peer) => bytesEqual(peer, first))
            ? []
            : (pathThroughGraph(p.graph, peers, first) ?? (peers[0] ? [peers[0]] : undefined));
        if (!intermediate) return ldk.Result_OnionMessagePathNoneZ.constructor_err();
        return ldk.Result_OnionMessagePathNoneZ.constructor_ok(
          ldk.OnionMessagePath.constructor_new(
            intermediate,
            destination.clone(),
            ldk.Option_CVec_SocketAddressZZ.constructor_none(),
          ),
        );
      },
      () => ldk.Result_OnionMessagePathNoneZ.constructor_err(),
      p.onCallbackError,
    ),
    create_blinded_paths: guard(
      'MessageRouter.create_blinded_paths',
      (recipient: Uint8Array, context: ldk.MessageContext, peers: Uint8Array[]) =>
        defaults.create_blinded_paths(recipient, context, peers),
      () => ldk.Result_CVec_BlindedMessagePathZNoneZ.constructor_err(),
      p.onCallbackError,
    ),
    create_compact_blinded_paths: guard(
      'MessageRouter.create_compact_blinded_paths',
      (recipient: Uint8Array, context: ldk.MessageContext, peers: ldk.MessageForwardNode[]) =>
        defaults.create_compact_blinded_paths(recipient, context, peers),
      () => ldk.Result_CVec_BlindedMessagePathZNoneZ.constructor_err(),
      p.onCallbackError,
    ),
  };
  p.retainer.keep(impl);
  return p.retainer.keep(ldk.MessageRouter.new_impl(impl));
}

/** The node a message to `destination` enters at: the node, or its blinded path's introduction node. */
function firstNode(destination: ldk.Destination, graph: ldk.NetworkGraph): Uint8Array | undefined {
  if (destination instanceof ldk.Destination_Node) return destination.node;
  if (!(destination instanceof ldk.Destination_BlindedPath)) return undefined;
  const intro = destination.blinded_path.introduction_node();
  if (intro instanceof ldk.IntroductionNode_NodeId) return intro.node_id;
  // a compact path names a channel end: the graph says whose
  const view = graph.read_only();
  try {
    const id = destination.blinded_path.public_introduction_node_id(view);
    return isNullPointer(id) ? undefined : Uint8Array.from(id.as_slice());
  } finally {
    view.free();
  }
}

/**
 * Nodes between us and `target` along announced channels, starting at one of `peers` (the path
 * the message takes before `target`), or undefined when the graph holds none within MAX_RELAY_HOPS.
 */
function pathThroughGraph(
  graph: ldk.NetworkGraph,
  peers: Uint8Array[],
  target: Uint8Array,
): Uint8Array[] | undefined {
  const view = graph.read_only();
  try {
    const targetHex = toHex(target);
    const cameFrom = new Map<string, string | undefined>();
    const bytesOf = new Map<string, Uint8Array>();
    let frontier: string[] = [];
    for (const peer of peers) {
      const hex = toHex(peer);
      cameFrom.set(hex, undefined);
      bytesOf.set(hex, peer);
      frontier.push(hex);
    }
    for (let depth = 0; depth < MAX_RELAY_HOPS && frontier.length > 0; depth++) {
      const next: string[] = [];
      for (const hex of frontier) {
        for (const neighbour of neighbours(view, bytesOf.get(hex)!)) {
          const nHex = toHex(neighbour);
          if (nHex === targetHex) {
            const path: Uint8Array[] = [];
            for (let at: string | undefined = hex; at !== undefined; at = cameFrom.get(at))
              path.unshift(bytesOf.get(at)!);
            return path;
          }
          if (cameFrom.has(nHex)) continue;
          cameFrom.set(nHex, hex);
          bytesOf.set(nHex, neighbour);
          next.push(nHex);
        }
      }
      frontier = next;
    }
    return undefined;
  } finally {
    view.free();
  }
}

/** The nodes at the other end of `node`'s announced channels. */
function neighbours(view: ldk.ReadOnlyNetworkGraph, node: Uint8Array): Uint8Array[] {
  const nodeId = ldk.NodeId.constructor_from_pubkey(node);
  const info = view.node(nodeId);
  try {
    if (isNullPointer(info)) return [];
    const found: Uint8Array[] = [];
    for (const scid of info.get_channels()) {
      const channel = view.channel(scid);
      if (isNullPointer(channel)) continue;
      const one = Uint8Array.from(channel.get_node_one().as_slice());
      const two = Uint8Array.from(channel.get_node_two().as_slice());
      found.push(bytesEqual(one, node) ? two : one);
    }
    return found;
  } finally {
    // `info` and the channels point into the view (freed with it)
    freeLdk(nodeId);
  }
}
