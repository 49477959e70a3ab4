// BOLT 8 custom messages between two real nodes over TCP: what LSPS0 (type 37913) stands on.
// A subscribed type arrives byte for byte with the sender's id, a handler may answer from inside
// itself, BOLT 1's odd/even rule holds for types nobody subscribed to, and bad sends are refused.
import { waitUntil } from '@lpw/devnet-chain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOM_PAYLOAD_MAX } from '../src/custom-messages.ts';
import { isNodeError } from '../src/errors.ts';
import type { LightningNode } from '../src/node.ts';
import { listenTcp, type TcpListener, tcp } from '../src/transport/tcp.ts';
import { type TestNet, testNet } from './harness.ts';

const LSPS0 = 37913;
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (payload: Uint8Array) => new TextDecoder().decode(payload);

describe('custom messages, two nodes over TCP', () => {
  let net: TestNet;
  let lsp: LightningNode;
  let wallet: LightningNode;
  let listener: TcpListener;
  const atLsp: Array<{ peerId: string; payload: Uint8Array }> = [];
  const atWallet: string[] = [];

  beforeAll(async () => {
    net = await testNet('custom-messages');
    lsp = (await net.make('lsp', 21, { role: 'lsp' })).node;
    wallet = (await net.make('wallet', 22, { role: 'wallet', trustedPeers: [lsp.nodeId] })).node;
    lsp.customMessages.onMessage(LSPS0, (peerId, payload) => {
      atLsp.push({ peerId, payload });
      // answering from inside the handler: it runs after LDK's call has returned
      lsp.customMessages.send(peerId, LSPS0, bytes(`echo ${payload.length}`));
    });
    wallet.customMessages.onMessage(LSPS0, (_peerId, payload) => atWallet.push(text(payload)));
    listener = await listenTcp(lsp);
    await connect();
  }, 60_000);

  afterAll(async () => {
    await listener?.close();
    await wallet?.stop();
    await lsp?.stop();
    await net?.stop();
  });

  async function connect() {
    await wallet.connect(lsp.nodeId, tcp('127.0.0.1', listener.port));
    await waitUntil('the LSP sees the wallet', () => lsp.isConnected(wallet.nodeId));
  }

  it('a message arrives byte for byte with its sender, and the answer comes back', async () => {
    const request = bytes('{"jsonrpc":"2.0","id":"1","method":"lsps0.list_protocols","params":{}}');
    wallet.customMessages.send(lsp.nodeId, LSPS0, request);
    await waitUntil('the echo', () => atWallet.length === 1, 10_000);
    expect(atLsp).toEqual([{ peerId: wallet.nodeId, payload: request }]);
    expect(atWallet).toEqual([`echo ${request.length}`]);
  });

  it('many messages arrive in the order sent, the largest a message can carry included', async () => {
    atLsp.length = 0;
    atWallet.length = 0;
    const largest = new Uint8Array(CUSTOM_PAYLOAD_MAX).fill(0x7b);
    for (let i = 0; i < 20; i++) wallet.customMessages.send(lsp.nodeId, LSPS0, bytes(`#${i}`));
    wallet.customMessages.send(lsp.nodeId, LSPS0, largest);
    await waitUntil('21 echoes', () => atWallet.length === 21, 20_000);
    expect(atLsp.slice(0, 20).map((m) => text(m.payload))).toEqual(
      Array.from({ length: 20 }, (_, i) => `#${i}`),
    );
    expect(atLsp[20]?.payload).toEqual(largest);
    expect(atWallet[20]).toBe(`echo ${CUSTOM_PAYLOAD_MAX}`);
  });

  it('refuses what it cannot send, with a typed error, and queues nothing', () => {
    const refused = (fn: () => void, code: string) => {
      try {
        fn();
      } catch (e) {
        expect(isNodeError(e) && e.code).toBe(code);
        return;
      }
      throw new Error('expected a NodeError');
    };
    refused(
      () => wallet.customMessages.send(lsp.nodeId, LSPS0, new Uint8Array(CUSTOM_PAYLOAD_MAX + 1)),
      'INVALID_INPUT',
    );
    refused(() => wallet.customMessages.send(lsp.nodeId, 32767, bytes('x')), 'INVALID_INPUT');
    refused(() => wallet.customMessages.send(lsp.nodeId, 65536, bytes('x')), 'INVALID_INPUT');
    refused(() => wallet.customMessages.send('02zz', LSPS0, bytes('x')), 'INVALID_INPUT');
    refused(() => wallet.customMessages.onMessage(1000, () => {}), 'INVALID_INPUT');
    const stranger = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'; // a valid key, not a peer
    refused(() => wallet.customMessages.send(stranger, LSPS0, bytes('x')), 'PEER_NOT_CONNECTED');
  });

  it('an odd type nobody subscribed to is ignored and the peer stays', async () => {
    atWallet.length = 0;
    wallet.customMessages.send(lsp.nodeId, 37915, bytes('nobody listens'));
    wallet.customMessages.send(lsp.nodeId, LSPS0, bytes('after'));
    await waitUntil('the echo of the next message', () => atWallet.length === 1, 10_000);
    expect(atWallet).toEqual(['echo 5']);
    expect(wallet.isConnected(lsp.nodeId)).toBe(true);
  });

  it('a handler that throws is reported and the next message is still delivered', async () => {
    const errorsBefore = net.errors.length;
    const off = lsp.customMessages.onMessage(LSPS0, () => {
      throw new Error('handler bug');
    });
    atWallet.length = 0;
    wallet.customMessages.send(lsp.nodeId, LSPS0, bytes('one'));
    await waitUntil('the echo despite the throwing handler', () => atWallet.length === 1, 10_000);
    await waitUntil('the error event', () => net.errors.length > errorsBefore, 10_000);
    expect(String((net.errors.at(-1) as { message: string }).message)).toContain('handler bug');
    off();
    wallet.customMessages.send(lsp.nodeId, LSPS0, bytes('two'));
    await waitUntil('the next echo', () => atWallet.length === 2, 10_000);
    expect(net.errors.length).toBe(errorsBefore + 1);
  });

  it('an even type nobody subscribed to makes the receiver drop the peer (BOLT 1)', async () => {
    const gone = wallet.waitFor('peer-disconnected', (e) => e.peerId === lsp.nodeId, 10_000);
    wallet.customMessages.send(lsp.nodeId, 37914, bytes('it is OK to be odd'));
    await gone;
    expect(lsp.isConnected(wallet.nodeId)).toBe(false);
    // and the pair works again after a reconnect
    await connect();
    atWallet.length = 0;
    wallet.customMessages.send(lsp.nodeId, LSPS0, bytes('back'));
    await waitUntil('the echo after reconnecting', () => atWallet.length === 1, 10_000);
  });
});
