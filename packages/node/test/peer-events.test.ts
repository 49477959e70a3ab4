// The node says when a peer comes and goes (peer-connected / peer-disconnected, from LDK's own
// handshake and disconnect calls) and when what a view shows may have changed without an event
// of its own (`changed`): a channel usable again after reconnecting, a block. The wallet's worker
// follows these instead of polling.
import { waitUntil } from '@lpw/devnet-chain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventOf } from '../src/events.ts';
import type { LightningNode } from '../src/node.ts';
import { listenTcp, type TcpListener, tcp } from '../src/transport/tcp.ts';
import { type TestNet, testNet } from './harness.ts';

describe('peer events and the changed notice, two nodes over TCP on the devnet', () => {
  let net: TestNet;
  let lsp: LightningNode;
  let wallet: LightningNode;
  let listener: TcpListener;
  const seen: Array<{ at: 'lsp' | 'wallet'; kind: string; peerId: string; connected: boolean }> = [];

  beforeAll(async () => {
    net = await testNet('peer-events');
    lsp = (await net.make('lsp', 11, { role: 'lsp' })).node;
    wallet = (await net.make('wallet', 12, { role: 'wallet', trustedPeers: [lsp.nodeId] })).node;
    for (const [at, node] of [
      ['lsp', lsp],
      ['wallet', wallet],
    ] as const) {
      // what `isConnected` says when the listener runs: the event is true to the node's state
      const note = (e: EventOf<'peer-connected'> | EventOf<'peer-disconnected'>) =>
        seen.push({ at, kind: e.kind, peerId: e.peerId, connected: node.isConnected(e.peerId) });
      node.on('peer-connected', note);
      node.on('peer-disconnected', note);
    }
    listener = await listenTcp(lsp);
    await net.fund(lsp, 2_000_000n);
  }, 60_000);

  afterAll(async () => {
    await listener?.close();
    await wallet?.stop();
    await lsp?.stop();
    await net?.stop();
  });

  const connect = async () => {
    await wallet.connect(lsp.nodeId, tcp('127.0.0.1', listener.port));
    await waitUntil('both sides see the peer', () => lsp.isConnected(wallet.nodeId));
  };

  it('both sides get peer-connected once the handshake is done', async () => {
    await connect();
    await waitUntil('two peer-connected events', () => seen.length === 2, 10_000);
    expect(seen).toEqual(
      expect.arrayContaining([
        { at: 'lsp', kind: 'peer-connected', peerId: wallet.nodeId, connected: true },
        { at: 'wallet', kind: 'peer-connected', peerId: lsp.nodeId, connected: true },
      ]),
    );
  });

  it('a channel usable again after a reconnect shows in a changed notice', async () => {
    const ready = wallet.waitFor('channel-ready');
    lsp.openChannel({ peerId: wallet.nodeId, capacitySat: 1_000_000n, zeroConf: true });
    await ready;
    await waitUntil('usable', () => wallet.listChannels()[0]?.isUsable === true, 10_000);

    seen.length = 0;
    wallet.disconnect(lsp.nodeId);
    await waitUntil('two peer-disconnected events', () => seen.length === 2, 10_000);
    expect(seen).toEqual(
      expect.arrayContaining([
        { at: 'lsp', kind: 'peer-disconnected', peerId: wallet.nodeId, connected: false },
        { at: 'wallet', kind: 'peer-disconnected', peerId: lsp.nodeId, connected: false },
      ]),
    );
    expect(wallet.listChannels()[0]?.isUsable).toBe(false);

    // no event of its own says the channel is usable again (channel_reestablish): `changed` does
    let usableAtNotice = false;
    const off = wallet.on('changed', () => {
      usableAtNotice ||= wallet.listChannels()[0]?.isUsable === true;
    });
    await connect();
    await waitUntil('a changed notice finds the channel usable', () => usableAtNotice, 10_000);
    off();
  });

  it('a chain sync that connects a block ends in a changed notice', async () => {
    const notice = wallet.waitFor('changed', undefined, 10_000);
    await net.mine(1, [wallet]);
    await notice;
    expect(wallet.chainWatch().lastSyncHeight).toBe(net.devnet.chain.tipHeight);
  });
});
