// In-memory transport: two PeerConnections wired back to back in one JS realm (tests, benchmarks,
// or a node in a worker talking to one in the page through a relay of our own).
import { PeerConnection as Conn, type Connector, type PeerConnection, type PeerHost } from './connection.ts';

export interface MemoryLinkStats {
  bytes: number;
  messages: number;
}

/** Connect to `remote` (another node in this realm) in memory. */
export function inMemory(remote: { readonly peerHost: PeerHost }, stats?: MemoryLinkStats): Connector {
  return async (local, theirNodeId) => {
    let inbound: PeerConnection | null = null;
    let outbound: PeerConnection | null = null;
    let closed = false;
    const closeBoth = () => {
      if (closed) return;
      closed = true;
      outbound?.closedByTransport();
      inbound?.closedByTransport();
    };
    const toRemote = {
      send(bytes: Uint8Array) {
        if (stats) {
          stats.bytes += bytes.length;
          stats.messages++;
        }
        inbound?.receive(Uint8Array.from(bytes));
        return true;
      },
      close: closeBoth,
    };
    const toLocal = {
      send(bytes: Uint8Array) {
        if (stats) {
          stats.bytes += bytes.length;
          stats.messages++;
        }
        outbound?.receive(Uint8Array.from(bytes));
        return true;
      },
      close: closeBoth,
    };
    inbound = Conn.inbound(remote.peerHost, toLocal);
    outbound = Conn.outbound(local, theirNodeId, toRemote);
    return outbound;
  };
}
