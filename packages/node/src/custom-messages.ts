// BOLT 8 custom messages (types 32768–65535) to and from any peer: the PeerManager's
// CustomMessageHandler. It also hears LDK's peer_connected / peer_disconnected calls and turns them
// into the node's peer events. Protocols on top (LSPS0 on type 37913) subscribe by type. Its init
// features are every node's gossip_queries (so a wallet gets no gossip it would throw away).
import * as ldk from 'lightningdevkit';
import { NodeError } from './errors.ts';
import type { EventBus } from './events.ts';
import { type CallbackErrorSink, guard, type Retainer } from './ldk/callbacks.ts';
import { toHex } from './ldk/values.ts';
import type { Lifecycle } from './lifecycle.ts';
import { nodeIdBytes } from './payment/route.ts';

/** BOLT 1: types 32768 and up are for custom messages. */
export const CUSTOM_TYPE_MIN = 32768;
/**
 * BOLT 8 caps a message at 65535 bytes, its 2-byte type included: the most a payload can hold.
 * A larger one could not be sent at all, so send() refuses it.
 */
export const CUSTOM_PAYLOAD_MAX = 65533;

export interface CustomMessages {
  /** Receive messages of one BOLT 8 custom type (>= 32768) from any peer; returns an unsubscribe. */
  onMessage(type: number, handler: (peerId: string, payload: Uint8Array) => void): () => void;
  /** Queue a message to a connected peer and flush it; throws a typed NodeError if not connected. */
  send(peerId: string, type: number, payload: Uint8Array): void;
}

export interface CustomMessagesContext {
  retainer: Retainer;
  onCallbackError: CallbackErrorSink;
  /** Handlers and peer events run from here: after LDK's call has returned, never inside WASM. */
  defer: (fn: () => void) => void;
  bus: EventBus;
  life: Lifecycle;
  isConnected: (peerId: string) => boolean;
  /** Wakes the pump, whose `process_events` takes the queued messages. */
  wake: () => void;
}

type Handler = (peerId: string, payload: Uint8Array) => void;

export class CustomMessageRouter implements CustomMessages {
  /** What the PeerManager is built with. */
  readonly handler: ldk.CustomMessageHandler;
  private readonly handlers = new Map<number, Set<Handler>>();
  private outbox: Array<{ peerId: Uint8Array; message: ldk.Type }> = [];
  /**
   * Our `Type` implementations LDK holds only weakly, from the moment we build one until the LDK
   * call that takes it has returned (read → handle_custom_message, and get_and_clear_pending_msg →
   * the write, each inside one read_event / process_events). Released on the next turn.
   */
  private inFlight: ldk.Type[] = [];
  private releaseScheduled = false;
  private readonly c: CustomMessagesContext;

  constructor(c: CustomMessagesContext) {
    this.c = c;
    const { retainer, onCallbackError: onError, bus } = c;
    const ok = () => ldk.Result_NoneNoneZ.constructor_ok();
    const handled = () => ldk.Result_NoneLightningErrorZ.constructor_ok();
    const impl: ldk.CustomMessageHandlerInterface = {
      handle_custom_message: guard(
        'CustomMessageHandler.handle_custom_message',
        (message: ldk.Type, sender: Uint8Array) => {
          this.deliver(toHex(sender), message.type_id() & 0xffff, message.write());
          return handled();
        },
        handled,
        onError,
      ),
      get_and_clear_pending_msg: guard(
        'CustomMessageHandler.get_and_clear_pending_msg',
        () => this.takeOutbox(),
        () => [],
        onError,
      ),
      // the bus delivers after LDK's call has returned: listeners may call back into the node
      peer_disconnected: guard(
        'CustomMessageHandler.peer_disconnected',
        (theirNodeId: Uint8Array) => bus.emit({ kind: 'peer-disconnected', peerId: toHex(theirNodeId) }),
        undefined,
        onError,
      ),
      // a failure here must not refuse the peer: the fallback accepts it too
      peer_connected: guard(
        'CustomMessageHandler.peer_connected',
        (theirNodeId: Uint8Array) => {
          bus.emit({ kind: 'peer-connected', peerId: toHex(theirNodeId) });
          return ok();
        },
        ok,
        onError,
      ),
      provided_node_features: () => ldk.NodeFeatures.constructor_empty(),
      // LDK sends the OR of its handlers' features in init. A wallet's routing handler is LDK's
      // IgnoringMessageHandler, which advertises nothing, and a peer without gossip_queries gets
      // its peer's whole gossip stream (LDK-NOTES). With it and no gossip_timestamp_filter, LDK's
      // PeerManager skips the peer in every broadcast and starts no backfill (BOLT 7). Nodes that
      // keep a graph advertise it through their gossip sync as well.
      provided_init_features: () => {
        const features = ldk.InitFeatures.constructor_empty();
        features.set_gossip_queries_optional();
        return features;
      },
    };
    const none = () =>
      ldk.Result_COption_TypeZDecodeErrorZ.constructor_ok(ldk.Option_TypeZ.constructor_none());
    const reader: ldk.CustomMessageReaderInterface = {
      // A type nobody subscribed to reads as none, so LDK applies BOLT 1's rule itself: ignore an
      // odd type, drop the peer for an even one. A failure is a decode error (LDK drops the
      // message), never an exception into WASM.
      read: guard(
        'CustomMessageReader.read',
        (messageType: number, buffer: Uint8Array) => {
          const type = messageType & 0xffff; // the bindings hand the u16 over as a signed i16
          if (!this.handlers.get(type)?.size) return none();
          const message = this.hold(opaqueMessage(type, buffer));
          return ldk.Result_COption_TypeZDecodeErrorZ.constructor_ok(
            ldk.Option_TypeZ.constructor_some(message),
          );
        },
        () =>
          ldk.Result_COption_TypeZDecodeErrorZ.constructor_err(ldk.DecodeError.constructor_invalid_value()),
        onError,
      ),
    };
    retainer.keep(impl);
    retainer.keep(reader);
    this.handler = retainer.keep(ldk.CustomMessageHandler.new_impl(impl, reader));
  }

  onMessage(type: number, handler: Handler): () => void {
    assertCustomType(type);
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
    }
    set.add(handler);
    return () => set.delete(handler);
  }

  send(peerId: string, type: number, payload: Uint8Array): void {
    this.c.life.assertRunning();
    assertCustomType(type);
    if (!(payload instanceof Uint8Array)) throw new NodeError('INVALID_INPUT', 'payload must be bytes');
    if (payload.length > CUSTOM_PAYLOAD_MAX)
      throw new NodeError(
        'INVALID_INPUT',
        `payload of ${payload.length} bytes: a custom message carries at most ${CUSTOM_PAYLOAD_MAX}`,
      );
    const id = nodeIdBytes(peerId);
    if (!this.c.isConnected(peerId)) throw new NodeError('PEER_NOT_CONNECTED', `${peerId} is not connected`);
    this.outbox.push({ peerId: id, message: opaqueMessage(type, payload.slice()) });
    this.c.wake();
  }

  private deliver(peerId: string, type: number, payload: Uint8Array): void {
    const handlers = this.handlers.get(type);
    if (!handlers) return;
    for (const handler of [...handlers]) {
      this.c.defer(() => {
        try {
          handler(peerId, payload);
        } catch (error) {
          this.c.onCallbackError(`custom message handler for type ${type}`, error);
        }
      });
    }
  }

  private takeOutbox(): ldk.TwoTuple_PublicKeyTypeZ[] {
    const taken = this.outbox;
    this.outbox = [];
    return taken.map(({ peerId, message }) =>
      ldk.TwoTuple_PublicKeyTypeZ.constructor_new(peerId, this.hold(message)),
    );
  }

  private hold(message: ldk.Type): ldk.Type {
    this.inFlight.push(message);
    if (!this.releaseScheduled) {
      this.releaseScheduled = true;
      this.c.defer(() => {
        this.releaseScheduled = false;
        this.inFlight = [];
      });
    }
    return message;
  }
}

/** A message LDK carries as bytes: we parse nothing here, the subscriber does. */
function opaqueMessage(type: number, payload: Uint8Array): ldk.Type {
  return ldk.Type.new_impl({
    type_id: () => type,
    debug_str: () => `custom message type ${type}, ${payload.length} bytes`,
    write: () => payload,
  });
}

function assertCustomType(type: number): void {
  if (!Number.isInteger(type) || type < CUSTOM_TYPE_MIN || type > 0xffff)
    throw new NodeError(
      'INVALID_INPUT',
      `custom message type ${type}: must be an integer from 32768 to 65535`,
    );
}
