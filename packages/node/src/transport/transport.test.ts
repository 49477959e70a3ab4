// The transports carrying real LDK nodes on the devnet: TCP and WebSocket links with a zero-conf
// channel, payments under back-pressure and stalls, garbage from strangers, drops and reconnects, and
// the no-re-entry rule checked against a transport that does everything synchronously.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { waitUntil } from '@lpw/devnet-chain';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { type TestNet, testNet } from '../../test/harness.ts';

import type { LightningNode } from '../node.ts';
import type { PayTrace } from '../start-marks.ts';
import { type ByteSink, type Connector, PeerConnection, type PeerHost } from './connection.ts';
import { listenTcp, type TcpListener, tcp } from './tcp.ts';
import {
  acceptWebSocket,
  type WebSocketConstructor,
  type WebSocketEventLike,
  type WebSocketLike,
  webSocket,
} from './websocket.ts';

let net_: TestNet;
let nextSeed = 21;
const live: LightningNode[] = [];

beforeAll(async () => {
  net_ = await testNet();
});
afterAll(async () => {
  for (const node of live) await node.stop();
});

/** A funded LSP and a wallet that trusts it, not yet connected. */
async function makePair(): Promise<{ lsp: LightningNode; wallet: LightningNode }> {
  const a = await net_.make('lsp', nextSeed++, { role: 'lsp' });
  net_.devnet.fund(a.wallet.address, 2_000_000n, { confirmations: 1 });
  await a.node.syncChain();
  const b = await net_.make('wallet', nextSeed++, { role: 'wallet', trustedPeers: [a.node.nodeId] });
  live.push(a.node, b.node);
  return { lsp: a.node, wallet: b.node };
}

async function openZeroConf(lsp: LightningNode, wallet: LightningNode): Promise<void> {
  const readyL = lsp.waitFor('channel-ready');
  const readyW = wallet.waitFor('channel-ready');
  lsp.openChannel({ peerId: wallet.nodeId, capacitySat: 1_000_000n, zeroConf: true });
  await Promise.all([readyL, readyW]);
  await usable(lsp, wallet);
}

async function usable(lsp: LightningNode, wallet: LightningNode): Promise<void> {
  await waitUntil(
    'channel usable on both sides',
    () => wallet.listChannels()[0]?.isUsable === true && lsp.listChannels()[0]?.isUsable === true,
  );
}

/** Pays one invoice and checks both ends to the msat. */
async function payOnce(payer: LightningNode, payee: LightningNode, amountMsat: bigint): Promise<void> {
  // what the payer just received becomes spendable once the commitment dance has settled
  await waitUntil('payer can spend', () => payer.balances().spendableNowMsat >= amountMsat);
  const payerBefore = payer.listChannels()[0]!.outboundMsat;
  const payeeBefore = payee.listChannels()[0]!.outboundMsat;
  const invoice = payee.createInvoice({ amountMsat, description: 'transport', expirySecs: 600 });
  const received = payee.waitFor('payment-received', (e) => e.paymentHash === invoice.paymentHash);
  const sent = await payer.payInvoice(invoice.bolt11, { timeoutMs: 20_000 });
  expect(sent.amountMsat).toBe(amountMsat);
  expect(sent.feeMsat).toBe(0n);
  expect((await received).amountMsat).toBe(amountMsat);
  // the payee's outbound capacity is its balance less the channel reserve: it moves by exactly the
  // amount once the payee is above the reserve (every first payment here is well above it)
  await waitUntil('balances settled to the msat', () => {
    const payeeNow = payee.listChannels()[0]!.outboundMsat;
    return (
      payer.listChannels()[0]!.outboundMsat === payerBefore - amountMsat &&
      (payeeBefore === 0n ? payeeNow > 0n : payeeNow === payeeBefore + amountMsat)
    );
  });
}

/**
 * `count` payments, `inFlight` at a time, amounts distinct so a lost or doubled one shows in the sum.
 * Resolves once every payment succeeded and both channel balances moved by exactly the total.
 */
async function payMany(
  payer: LightningNode,
  payee: LightningNode,
  count: number,
  inFlight: number,
  baseMsat: bigint,
): Promise<void> {
  const payerBefore = payer.listChannels()[0]!.outboundMsat;
  const payeeBefore = payee.listChannels()[0]!.outboundMsat;
  const hashes = new Set<string>();
  let receivedMsat = 0n;
  let receivedCount = 0;
  const off = payee.on('payment-received', (e) => {
    if (!hashes.has(e.paymentHash)) return;
    receivedMsat += e.amountMsat;
    receivedCount++;
  });
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const invoice = payee.createInvoice({
        amountMsat: baseMsat + BigInt(i),
        description: `burst ${i}`,
        expirySecs: 600,
      });
      hashes.add(invoice.paymentHash);
      await payer.payInvoice(invoice.bolt11, { timeoutMs: 30_000 });
    }
  };
  try {
    await Promise.all(Array.from({ length: inFlight }, worker));
    let expected = 0n;
    for (let i = 0; i < count; i++) expected += baseMsat + BigInt(i);
    await waitUntil(`${count} payments received`, () => receivedCount === count, 20_000);
    expect(receivedMsat).toBe(expected);
    await waitUntil(
      'balances settled to the msat after the burst',
      () =>
        payer.listChannels()[0]!.outboundMsat === payerBefore - expected &&
        payee.listChannels()[0]!.outboundMsat === payeeBefore + expected,
      20_000,
    );
  } finally {
    off();
  }
}

/** Node errors other than the ones a test provokes on purpose (none expected here). */
const callbackFailures = () =>
  net_.errors.filter((e) => (e as { code?: string } | undefined)?.code === 'CALLBACK_FAILED');

/** Keeps a handle on every connection a connector opens (for their flow-control counters). */
function recording(via: Connector, into: PeerConnection[]): Connector {
  return async (host, theirNodeId) => {
    const conn = await via(host, theirNodeId);
    into.push(conn);
    return conn;
  };
}

function sumStats(conns: Iterable<PeerConnection>) {
  const total = { shortWrites: 0, transportFull: 0, ldkReadPauses: 0, socketPauses: 0, bytesIn: 0 };
  for (const c of conns) {
    total.shortWrites += c.stats.shortWrites;
    total.transportFull += c.stats.transportFull;
    total.ldkReadPauses += c.stats.ldkReadPauses;
    total.socketPauses += c.stats.socketPauses;
    total.bytesIn += c.stats.bytesIn;
  }
  return total;
}

/** Resolves when the socket has closed; rejects after `ms`. */
function closedWithin(socket: { once(event: 'close', fn: () => void): unknown }, ms = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('peer socket was not closed')), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** `gc()` without starting Node with --expose-gc. */
function forcedGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** BOLT 8 act one shapes a stranger might send: 50 bytes, version 0, then a key and a MAC. */
function garbageActs(): Array<{ name: string; bytes: Uint8Array }> {
  const generator = Uint8Array.from(
    Buffer.from('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798', 'hex'),
  );
  const validKeyBadMac = new Uint8Array(50);
  validKeyBadMac.set(generator, 1);
  validKeyBadMac.set(randomBytes(16), 34);
  const notAPoint = new Uint8Array(50);
  notAPoint[1] = 0x02;
  notAPoint.fill(0xff, 2, 34);
  const badVersion = new Uint8Array(50);
  badVersion[0] = 7;
  badVersion.set(generator, 1);
  return [
    { name: 'random bytes', bytes: randomBytes(4_000) },
    { name: 'act one, valid key, bad MAC', bytes: validKeyBadMac },
    { name: 'act one, key not on the curve', bytes: notAPoint },
    { name: 'act one, unknown version', bytes: badVersion },
  ];
}

// ------------------------------------------------------------------------------------------------
// A TCP relay between the nodes: forwards in small random pieces, can stall (stops reading both
// ways, so the kernel buffers fill and TCP flow control pushes back) and can cut every link.
class TcpRelay {
  private readonly links = new Set<net.Socket>();
  private readonly resumers = new Map<net.Socket, () => void>();
  private stalled = false;
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static start(targetPort: number): Promise<TcpRelay> {
    let relay: TcpRelay;
    const server = net.createServer((inbound) => {
      const outbound = net.connect({ host: '127.0.0.1', port: targetPort });
      relay.join(inbound, outbound);
    });
    return new Promise((resolve) => {
      server.listen(0, '127.0.0.1', () => {
        relay = new TcpRelay(server, (server.address() as net.AddressInfo).port);
        resolve(relay);
      });
    });
  }

  private join(a: net.Socket, b: net.Socket): void {
    for (const s of [a, b]) {
      this.links.add(s);
      s.setNoDelay(true);
      s.on('error', () => {});
      s.on('close', () => {
        this.links.delete(s);
        a.destroy();
        b.destroy();
      });
    }
    this.pipe(a, b);
    this.pipe(b, a);
  }

  private pipe(from: net.Socket, to: net.Socket): void {
    let blocked = false;
    from.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; ) {
        const size = 1 + Math.floor(Math.random() * 97);
        if (!to.write(chunk.subarray(i, i + size))) blocked = true;
        i += size;
      }
      if (blocked) from.pause();
    });
    const resume = () => {
      if (!blocked && !this.stalled) from.resume();
    };
    to.on('drain', () => {
      blocked = false;
      resume();
    });
    this.resumers.set(from, resume);
    from.on('close', () => this.resumers.delete(from));
  }

  /** Stop moving bytes for `ms`. */
  async stall(ms: number): Promise<void> {
    this.stalled = true;
    for (const s of this.links) s.pause();
    await new Promise((r) => setTimeout(r, ms));
    this.stalled = false;
    for (const resume of this.resumers.values()) resume();
  }

  /** Destroy every relayed socket, as a dropped network would. */
  cut(): void {
    for (const s of this.links) s.destroy();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe('TCP on 127.0.0.1', () => {
  let lsp: LightningNode;
  let wallet: LightningNode;
  let listener: TcpListener;
  let relay: TcpRelay;
  const outbound: PeerConnection[] = [];
  // a small socket high-water mark so write() returns false and 'drain' is needed all the time
  const dial = () => recording(tcp('127.0.0.1', relay.port, { highWaterMark: 256 }), outbound);

  beforeAll(async () => {
    ({ lsp, wallet } = await makePair());
    listener = await listenTcp(lsp, 0, { highWaterMark: 256 });
    relay = await TcpRelay.start(listener.port);
    await wallet.connect(lsp.nodeId, dial());
    await waitUntil('lsp sees the wallet', () => lsp.isConnected(wallet.nodeId));
    await openZeroConf(lsp, wallet);
  }, 30_000);

  afterAll(async () => {
    await relay?.close();
    await listener?.close();
  });

  it('pays both ways over a zero-conf channel with exact msat accounting', async () => {
    await payOnce(lsp, wallet, 50_000_000n);
    await payOnce(wallet, lsp, 7_000_123n);
    expect(outbound.length).toBe(1);
    expect(listener.connections.size).toBe(1);
  }, 20_000);

  it('300 payments, 25 in flight, through stalls: none lost, none stuck, back-pressure exercised', async () => {
    let stalling = true;
    const stalls = (async () => {
      while (stalling) {
        await new Promise((r) => setTimeout(r, 250));
        if (stalling) await relay.stall(80);
      }
    })();
    try {
      await payMany(lsp, wallet, 200, 25, 10_000n);
      await payMany(wallet, lsp, 100, 25, 5_000n);
    } finally {
      stalling = false;
      await stalls;
    }
    const stats = sumStats([...outbound, ...listener.connections]);
    // every flow-control path ran: socket buffer over its mark, LDK told to wait for
    // write_buffer_space_avail, LDK asking us to stop reading and resuming us
    expect(stats.transportFull).toBeGreaterThan(0);
    expect(stats.shortWrites).toBeGreaterThan(0);
    expect(stats.socketPauses).toBeGreaterThan(0);
    await payOnce(lsp, wallet, 1_000n);
    expect(callbackFailures()).toEqual([]);
  }, 60_000);

  it('garbage from a stranger drops that connection only; the channel keeps paying', async () => {
    for (const act of garbageActs()) {
      const stranger = net.connect({ host: '127.0.0.1', port: listener.port });
      stranger.on('error', () => {});
      await new Promise<void>((r) => stranger.once('connect', () => r()));
      await waitUntil(`${act.name}: accepted`, () => listener.connections.size === 2);
      const closed = closedWithin(stranger);
      stranger.write(act.bytes);
      await closed;
      // socket_disconnected reached LDK: the listener dropped it and only the wallet is left
      await waitUntil(`${act.name}: connection dropped`, () => listener.connections.size === 1);
      expect(lsp.isConnected(wallet.nodeId)).toBe(true);
    }
    // a stranger that speaks half an act and hangs up
    const quitter = net.connect({ host: '127.0.0.1', port: listener.port });
    await new Promise<void>((r) => quitter.once('connect', () => r()));
    await waitUntil('quitter accepted', () => listener.connections.size === 2);
    quitter.end(new Uint8Array(20));
    await waitUntil('quitter dropped', () => listener.connections.size === 1);

    await payOnce(lsp, wallet, 2_000_000n);
    await payOnce(wallet, lsp, 1_000_000n);
    expect(lsp.listPeers().map((p) => p.peerId)).toEqual([wallet.nodeId]);
    expect(callbackFailures()).toEqual([]);
  }, 30_000);

  it('ended connections are let go, and collecting them does not hurt the WASM instance', async () => {
    const gc = forcedGc();
    const baseline = lsp.peerHost.retainer.size;
    for (let i = 0; i < 30; i++) {
      const stranger = net.connect({ host: '127.0.0.1', port: listener.port });
      stranger.on('error', () => {});
      await new Promise<void>((r) => stranger.once('connect', () => r()));
      const closed = closedWithin(stranger);
      stranger.write(randomBytes(60));
      await closed;
    }
    await waitUntil('strangers dropped', () => listener.connections.size === 1);
    await waitUntil('their callbacks released', () => lsp.peerHost.retainer.size === baseline);
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    // a collected callback LDK still used would panic here ("function call on GC'd JS object")
    await payOnce(lsp, wallet, 2_500_000n);
    await payOnce(wallet, lsp, 1_250_000n);
    expect(callbackFailures()).toEqual([]);
  }, 30_000);

  it('a dropped link is seen on both sides; reconnecting makes the channel usable again', async () => {
    relay.cut();
    await waitUntil(
      'both sides see the peer gone',
      () => !lsp.isConnected(wallet.nodeId) && !wallet.isConnected(lsp.nodeId),
    );
    await waitUntil('listener forgot the connection', () => listener.connections.size === 0);
    expect(lsp.listChannels()[0]!.isUsable).toBe(false);

    forcedGc()(); // the dropped connection's callbacks are gone now
    await wallet.connect(lsp.nodeId, dial());
    await usable(lsp, wallet);
    await payOnce(lsp, wallet, 3_000_000n);
    await payOnce(wallet, lsp, 1_500_000n);
    await payMany(lsp, wallet, 50, 10, 20_000n);
    expect(lsp.listChannels()[0]!.confirmations ?? 0).toBe(0); // still the zero-conf channel
    expect(callbackFailures()).toEqual([]);
  }, 30_000);
});

// ------------------------------------------------------------------------------------------------
// A client WebSocket behind a slow link: while stalled, frames wait in this wrapper and count in
// `bufferedAmount`, as they would in a browser on a congested network.
class SlowLinkWebSocket implements WebSocketLike {
  static readonly open = new Set<SlowLinkWebSocket>();
  private static stalled = false;
  private readonly inner: WebSocket;
  private readonly held: Uint8Array[] = [];
  private heldBytes = 0;

  constructor(url: string) {
    this.inner = new WebSocket(url);
    SlowLinkWebSocket.open.add(this);
    this.inner.addEventListener('close', () => SlowLinkWebSocket.open.delete(this));
  }

  static async stall(ms: number): Promise<void> {
    SlowLinkWebSocket.stalled = true;
    await new Promise((r) => setTimeout(r, ms));
    SlowLinkWebSocket.stalled = false;
    for (const ws of SlowLinkWebSocket.open) ws.flush();
  }

  get binaryType(): string {
    return this.inner.binaryType;
  }
  set binaryType(value: string) {
    this.inner.binaryType = value as WebSocket['binaryType'];
  }
  get protocol(): string {
    return this.inner.protocol;
  }
  get readyState(): number {
    return this.inner.readyState;
  }
  get bufferedAmount(): number {
    return this.inner.bufferedAmount + this.heldBytes;
  }
  send(data: Uint8Array): void {
    if (!SlowLinkWebSocket.stalled && this.held.length === 0) this.inner.send(data);
    else {
      this.held.push(Uint8Array.from(data));
      this.heldBytes += data.length;
    }
  }
  close(code?: number, reason?: string): void {
    this.inner.close(code, reason);
  }
  addEventListener(
    type: 'open' | 'close' | 'error' | 'message',
    listener: (event: WebSocketEventLike) => void,
  ): void {
    this.inner.addEventListener(type, listener);
  }
  private flush(): void {
    if (this.inner.readyState !== WebSocket.OPEN) return;
    for (const frame of this.held.splice(0)) this.inner.send(frame);
    this.heldBytes = 0;
  }
}

describe('WebSocket (ws server on 127.0.0.1, client through the browser WebSocket API)', () => {
  let lsp: LightningNode;
  let wallet: LightningNode;
  let server: WebSocketServer;
  let url: string;
  const inbound = new Set<PeerConnection>();
  const outbound: PeerConnection[] = [];
  const dial = () => recording(webSocket(url, SlowLinkWebSocket, { highWaterBytes: 256 }), outbound);
  /** WebSocket frames the LSP's side sent. */
  let lspFrames = 0;

  beforeAll(async () => {
    ({ lsp, wallet } = await makePair());
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => server.once('listening', () => r()));
    url = `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    server.on('connection', (ws) => {
      const send = ws.send.bind(ws);
      ws.send = ((data: Uint8Array) => {
        lspFrames++;
        send(data);
      }) as typeof ws.send;
      const conn = acceptWebSocket(lsp, ws, { highWaterBytes: 256 });
      if (!conn) return;
      inbound.add(conn);
      conn.onClose(() => inbound.delete(conn));
    });
    await wallet.connect(lsp.nodeId, dial());
    await waitUntil('lsp sees the wallet', () => lsp.isConnected(wallet.nodeId));
    await openZeroConf(lsp, wallet);
  }, 30_000);

  afterAll(async () => {
    for (const ws of server?.clients ?? []) ws.terminate();
    await new Promise((r) => server?.close(r));
  });

  it('pays both ways over a zero-conf channel with exact msat accounting', async () => {
    // the client needs nothing but the browser's WebSocket (Node 20 has none at run time)
    expectTypeOf<typeof globalThis.WebSocket>().toExtend<WebSocketConstructor>();
    await payOnce(lsp, wallet, 50_000_000n);
    await payOnce(wallet, lsp, 7_000_123n);
    expect(inbound.size).toBe(1);
  }, 20_000);

  it("a step's messages leave as one frame: the wallet reads the LSP's reply to its HTLC in one go", async () => {
    // The LSP answers the wallet's commitment_signed with revoke_and_ack and its own
    // commitment_signed, each handed over by LDK in its own send_data. As two frames, a browser
    // may run the wallet's pump between them: two commits, each held until the backup is uploaded.
    await payOnce(lsp, wallet, 50_000_000n); // something for the wallet to pay with
    let lspMessages = 0;
    const g = globalThis as { lpwPayTrace?: PayTrace };
    g.lpwPayTrace = (step, owner) => {
      if (step === 'peer:out' && owner === lsp.peerHost) lspMessages++;
    };
    const framesBefore = lspFrames;
    try {
      await payOnce(wallet, lsp, 1_000_000n);
    } finally {
      delete g.lpwPayTrace;
    }
    const frames = lspFrames - framesBefore;
    expect(lspMessages).toBeGreaterThanOrEqual(3); // revoke_and_ack, commitment_signed, the fulfil…
    expect(frames).toBeLessThan(lspMessages);
  }, 20_000);

  it('300 payments, 25 in flight, through a stalling link: none lost, none stuck', async () => {
    let stalling = true;
    const stalls = (async () => {
      while (stalling) {
        await new Promise((r) => setTimeout(r, 250));
        if (stalling) await SlowLinkWebSocket.stall(80);
      }
    })();
    try {
      await payMany(lsp, wallet, 200, 25, 10_000n);
      await payMany(wallet, lsp, 100, 25, 5_000n);
    } finally {
      stalling = false;
      await stalls;
    }
    // the wallet's sends backed up behind the stalled link and resumed when it drained (had they
    // not, the payments above would be stuck). Whether LDK also tried to write while blocked (a short
    // write) depends on how many messages one flush carries, which timing decides: not asserted.
    const stats = sumStats(outbound);
    expect(stats.transportFull).toBeGreaterThan(0);
    await payOnce(lsp, wallet, 1_000n);
    expect(callbackFailures()).toEqual([]);
  }, 60_000);

  it('garbage from a WebSocket stranger drops that connection only; the channel keeps paying', async () => {
    const strangers: Array<{ name: string; send: (ws: WebSocket) => void }> = [
      ...garbageActs().map((act) => ({ name: act.name, send: (ws: WebSocket) => ws.send(act.bytes) })),
      { name: 'a text frame', send: (ws: WebSocket) => ws.send('hello, node') },
    ];
    for (const stranger of strangers) {
      const ws = new WebSocket(url);
      ws.on('error', () => {});
      await new Promise<void>((r) => ws.once('open', () => r()));
      await waitUntil(`${stranger.name}: accepted`, () => inbound.size === 2);
      const closed = closedWithin(ws);
      stranger.send(ws);
      await closed;
      await waitUntil(`${stranger.name}: connection dropped`, () => inbound.size === 1);
    }
    // broken WebSocket framing after a valid upgrade: `ws` reports an error on the server socket
    const raw = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
    raw.on('error', () => {});
    raw.write(
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await new Promise<void>((r) => raw.once('data', () => r()));
    await waitUntil('raw upgrade accepted', () => inbound.size === 2);
    const rawClosed = closedWithin(raw);
    // a frame header no client may send: unmasked, with a reserved opcode (3). Random bytes would not
    // do: about 1 in 100 starts a masked ping or an unfinished frame, which the server rightly waits on
    raw.write(Buffer.concat([Uint8Array.of(0x83, 62), randomBytes(62)]));
    await rawClosed;
    await waitUntil('broken framing dropped', () => inbound.size === 1);

    expect(lsp.isConnected(wallet.nodeId)).toBe(true);
    await payOnce(lsp, wallet, 2_000_000n);
    await payOnce(wallet, lsp, 1_000_000n);
    expect(lsp.listPeers().map((p) => p.peerId)).toEqual([wallet.nodeId]);
    expect(callbackFailures()).toEqual([]);
  }, 30_000);

  it('a dropped socket is seen on both sides; reconnecting makes the channel usable again', async () => {
    for (const ws of server.clients) ws.terminate();
    await waitUntil(
      'both sides see the peer gone',
      () => !lsp.isConnected(wallet.nodeId) && !wallet.isConnected(lsp.nodeId),
    );
    await waitUntil('server side forgot the connection', () => inbound.size === 0);

    await wallet.connect(lsp.nodeId, dial());
    await usable(lsp, wallet);
    await payOnce(lsp, wallet, 3_000_000n);
    await payOnce(wallet, lsp, 1_500_000n);
    await payMany(lsp, wallet, 50, 10, 20_000n);
    expect(callbackFailures()).toEqual([]);
  }, 30_000);
});

// ------------------------------------------------------------------------------------------------
describe('connection: LDK is never re-entered from inside its own callbacks', () => {
  it('a transport that answers act one with "full" and drains inside that send still completes the handshake', async () => {
    const { lsp, wallet } = await makePair();
    // in memory and synchronous; the dialer's first send (act one) reports its buffer full and
    // drained before returning, which the connection can only hear once it exists
    const firstSendFull: Connector = async (local, theirNodeId) => {
      let dialer: PeerConnection | undefined;
      let acceptor: PeerConnection | undefined;
      let dialerSends = 0;
      const closeBoth = () => {
        dialer?.closedByTransport();
        acceptor?.closedByTransport();
      };
      acceptor = PeerConnection.inbound(lsp.peerHost, {
        send: (bytes) => {
          dialer?.receive(Uint8Array.from(bytes));
          return true;
        },
        close: closeBoth,
      });
      dialer = PeerConnection.outbound(local, theirNodeId, {
        send: (bytes) => {
          acceptor?.receive(Uint8Array.from(bytes));
          if (++dialerSends > 1) return true;
          dialer?.writable();
          return false;
        },
        close: closeBoth,
      });
      return dialer;
    };
    await wallet.connect(lsp.nodeId, firstSendFull);
    await waitUntil('lsp sees the wallet', () => lsp.isConnected(wallet.nodeId));
    expect(wallet.isConnected(lsp.nodeId)).toBe(true);
    expect(callbackFailures()).toEqual([]);
  }, 30_000);

  it('a transport that delivers, drains and closes synchronously still pays, drops and reconnects', async () => {
    const { lsp, wallet } = await makePair();
    // depth of transport calls made from inside LDK (send_data → sink.send, disconnect → close)
    let insideTransport = 0;
    const reentered: string[] = [];
    // the host a connection sees, with every PeerManager call checked against that depth
    const watched = (host: PeerHost): PeerHost => {
      const pm = host.peerManager;
      const peerManager = new Proxy(pm, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (insideTransport > 0) reentered.push(String(prop));
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      return {
        peerManager,
        retainer: host.retainer,
        onCallbackError: host.onCallbackError,
        defer: host.defer,
        wake: host.wake,
        get stopped() {
          return host.stopped;
        },
      };
    };
    const connections: PeerConnection[] = [];
    let sends = 0;
    const synchronousLink =
      (remote: LightningNode): Connector =>
      async (local, theirNodeId) => {
        let dialer: PeerConnection | undefined;
        let acceptor: PeerConnection | undefined;
        const sink = (self: () => PeerConnection | undefined, peer: () => PeerConnection | undefined) =>
          ({
            send(bytes) {
              insideTransport++;
              try {
                peer()?.receive(Uint8Array.from(bytes));
                sends++;
                // "full", then drained before even returning
                if (sends % 5 === 0) {
                  self()?.writable();
                  return false;
                }
                // "full", drained as soon as the current call stack (LDK's included) unwinds
                if (sends % 7 === 0) {
                  queueMicrotask(() => self()?.writable());
                  return false;
                }
                return true;
              } finally {
                insideTransport--;
              }
            },
            close() {
              insideTransport++;
              try {
                dialer?.closedByTransport();
                acceptor?.closedByTransport();
              } finally {
                insideTransport--;
              }
            },
          }) satisfies ByteSink;
        acceptor = PeerConnection.inbound(
          watched(remote.peerHost),
          sink(
            () => acceptor,
            () => dialer,
          ),
        );
        dialer = PeerConnection.outbound(
          watched(local),
          theirNodeId,
          sink(
            () => dialer,
            () => acceptor,
          ),
        );
        connections.push(dialer, acceptor);
        return dialer;
      };

    await wallet.connect(lsp.nodeId, synchronousLink(lsp));
    await waitUntil('lsp sees the wallet', () => lsp.isConnected(wallet.nodeId));
    await openZeroConf(lsp, wallet);
    await payOnce(lsp, wallet, 40_000_000n);
    await payMany(lsp, wallet, 60, 20, 10_000n);
    await payMany(wallet, lsp, 40, 20, 5_000n);

    // LDK asks for the disconnect (disconnect_socket), the transport closes both ends at once
    wallet.disconnect(lsp.nodeId);
    await waitUntil(
      'both sides see the peer gone',
      () => !lsp.isConnected(wallet.nodeId) && !wallet.isConnected(lsp.nodeId),
    );
    await wallet.connect(lsp.nodeId, synchronousLink(lsp));
    await usable(lsp, wallet);
    await payOnce(wallet, lsp, 1_000_000n);

    expect(reentered).toEqual([]);
    const stats = sumStats(connections);
    expect(stats.transportFull).toBeGreaterThan(0);
    expect(stats.shortWrites).toBeGreaterThan(0);
    expect(callbackFailures()).toEqual([]);
  }, 30_000);
});
