// LSPS over BOLT 8 on the devnet (bLIP 50 transport, bLIP 51 and 52 methods): a plain LDK node that
// knows only the spec — no tRPC, no login, only custom messages of type 37913 over a TCP peer link —
// buys a JIT channel and receives through it, with the fees, promises and error codes the tRPC API
// gives. Then what a hostile or broken client sends: unknown methods and params, malformed JSON, a
// request cut across messages, oversized messages, notifications, and clients that never answer.
import { randomUUID } from 'node:crypto';
import { parseScid } from '@lpw/api';
import { waitUntil } from '@lpw/devnet';
import { createNode, isNodeError, type LightningNode, MemoryStore } from '@lpw/node';
import { tcp } from '@lpw/node/tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLspsClient, type LspsClient, LspsError } from '../src/client/lsps.ts';
import { LSPS0_MAX_PAYLOAD_BYTES, LSPS0_MESSAGE_TYPE } from '../src/lsps/jsonrpc.ts';
import { type Stack, startStack } from './lightning.ts';
import { backends } from './stores.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const sqlite = backends().find((b) => b.name === 'sqlite')!;

describe('LSPS over BOLT 8: a spec-only client on the devnet', () => {
  let s: Stack;
  const clients: LightningNode[] = [];

  /** A wallet node with no tRPC client at all: connected to the LSP's public TCP port, LSPS client on top. */
  async function specClient(seedByte: number): Promise<{ node: LightningNode; lsps: LspsClient }> {
    const node = await createNode({
      seed: new Uint8Array(32).fill(seedByte),
      network: 'regtest',
      role: 'wallet',
      store: new MemoryStore(),
      chain: { esploraUrl: s.devnet.esploraUrl },
      chainSyncIntervalMs: 0,
      trustedPeers: [s.lsp.nodeId],
      logLevel: 'error',
    });
    clients.push(node);
    const lsps = createLspsClient(node, s.lsp.nodeId, { timeoutMs: 20_000 });
    await node.connect(s.lsp.nodeId, tcp('127.0.0.1', s.server.peerPort!));
    await waitUntil('the LSP sees the client', () => s.lsp.isConnected(node.nodeId), 10_000);
    return { node, lsps };
  }

  /** Raw LSPS messages: what the LSP answers to exactly these bytes, in order. */
  async function exchange(node: LightningNode, payloads: Uint8Array[], answers: number) {
    const got: Array<Record<string, unknown>> = [];
    const off = node.customMessages.onMessage(LSPS0_MESSAGE_TYPE, (peerId, payload) => {
      if (peerId === s.lsp.nodeId) got.push(JSON.parse(new TextDecoder().decode(payload)));
    });
    for (const p of payloads) node.customMessages.send(s.lsp.nodeId, LSPS0_MESSAGE_TYPE, p);
    await waitUntil(`${answers} LSPS answers`, () => got.length >= answers, 15_000);
    off();
    return got;
  }

  beforeAll(async () => {
    s = await startStack(
      sqlite,
      { PEER_LISTEN: '127.0.0.1:0', JIT_HOLD_TIMEOUT_SEC: '10', ORDER_MAX_LSP_BALANCE_SAT: '2000000' },
      'lsps-bolt8',
    );
  }, 180_000);
  afterAll(async () => {
    for (const node of clients) await node.stop();
    await s?.stop();
  }, 60_000);

  it('lsps0.list_protocols names LSPS1 and LSPS2 (never 0)', async () => {
    const { lsps } = await specClient(0x51);
    expect(await lsps.listProtocols()).toEqual([1, 2]);
  });

  it('buys a JIT channel over BOLT 8 and receives through it: amount − the fee the tRPC API quotes', async () => {
    const { node, lsps } = await specClient(0x52);
    // the same menu, promise and all, as the tRPC API's (compared over HTTP by the test, not the client)
    const trpcMenu = await fetch(`${s.server.url}/trpc/jit.getInfo?input=${encodeURIComponent('{}')}`)
      .then((r) => r.json() as Promise<{ result: { data: unknown } }>)
      .then((r) => r.result.data);
    expect(await lsps.lsps2GetInfo()).toEqual(trpcMenu);

    const amountMsat = 1_000_000_000n;
    const jit = await lsps.receiveJit(node, { amountMsat, description: 'over bolt 8' });
    expect(jit.openingFeeMsat).toBe(4_000_000n); // 0.4 %, as jit.test.ts finds over tRPC
    const received = node.waitFor('payment-received', (e) => e.paymentHash === jit.paymentHash, 60_000);
    await s.net.router.node.payInvoice(jit.bolt11, { timeoutMs: 60_000 });
    const got = await received;
    expect(got.amountMsat).toBe(amountMsat - jit.openingFeeMsat);
    expect(got.skimmedFeeMsat).toBe(jit.openingFeeMsat);
    expect(node.listChannels()).toMatchObject([{ peerId: s.lsp.nodeId, isUsable: true }]);
    // the purchase is the BOLT 8 peer's: its node id is its wallet, no login happened
    const purchase = await s.store.getJitPurchase(parseScid(jit.jitChannelScid));
    expect(purchase).toMatchObject({ nodeId: node.nodeId, state: 'FORWARDED' });
    expect(await s.store.getWallet(node.nodeId)).toBeDefined();
    expect(s.server.lsps.pending).toBe(0);
  }, 120_000);

  it('bLIP 52 and 51 errors: a forged promise is 201, an order outside the options 100, an unknown one 101', async () => {
    const { lsps } = await specClient(0x53);
    const [offer] = (await lsps.lsps2GetInfo()).opening_fee_params_menu;
    const forged = { ...offer!, min_fee_msat: '1' };
    await expect(
      lsps.lsps2Buy({ opening_fee_params: forged, payment_size_msat: '50000000' }),
    ).rejects.toMatchObject({
      rpcCode: 201,
      code: 'INVALID_OPENING_FEE_PARAMS',
    });
    await expect(lsps.lsps2Buy({ opening_fee_params: offer, payment_size_msat: '1' })).rejects.toMatchObject({
      rpcCode: 202,
    });
    const order = {
      lsp_balance_sat: 3_000_000n,
      client_balance_sat: 0n,
      required_channel_confirmations: 0,
      funding_confirms_within_blocks: 6,
      channel_expiry_blocks: 1_000,
      announce_channel: false,
    };
    await expect(lsps.lsps1CreateOrder(order)).rejects.toMatchObject({
      rpcCode: 100,
      data: { property: 'max_initial_lsp_balance_sat' },
    });
    await expect(lsps.lsps1GetOrder(randomUUID())).rejects.toMatchObject({ rpcCode: 101, code: 'NOT_FOUND' });
    // and a good order is the same order over both: created here, read back here
    const created = await lsps.lsps1CreateOrder({ ...order, lsp_balance_sat: 1_000_000n });
    expect(created).toMatchObject({ order_state: 'CREATED', lsp_balance_sat: '1000000' });
    expect(created.payment.bolt11?.fee_total_sat).toBe('6000'); // 1,000 + 0.5 % of 1M sat
    expect(await lsps.lsps1GetOrder(created.order_id)).toEqual(created);
  }, 60_000);

  it("the tRPC API's per-wallet limits hold over BOLT 8: the 6th order in a minute is refused (-32000)", async () => {
    const { lsps } = await specClient(0x5a);
    // RATE_ORDERS_PER_MIN is 5: each attempt takes a token, even one the options then refuse
    const tooBig = {
      lsp_balance_sat: 3_000_000n,
      client_balance_sat: 0n,
      required_channel_confirmations: 0,
      funding_confirms_within_blocks: 6,
      channel_expiry_blocks: 1_000,
      announce_channel: false,
    };
    for (let i = 0; i < 5; i++)
      await expect(lsps.lsps1CreateOrder(tooBig)).rejects.toMatchObject({ rpcCode: 100 });
    const refused = await lsps.lsps1CreateOrder(tooBig).catch((e: unknown) => e);
    expect(refused).toMatchObject({ rpcCode: -32000, code: 'RATE_LIMITED' });
    expect((refused as LspsError).data?.retry_after_sec).toBeGreaterThan(0);
    // other methods are not that bucket's
    expect(await lsps.listProtocols()).toEqual([1, 2]);
  });

  it('unknown methods are -32601, unknown params -32602 naming them, by-position params -32602', async () => {
    const { node, lsps } = await specClient(0x54);
    await expect(lsps.request('lsps9.do_this')).rejects.toMatchObject({ rpcCode: -32601 });
    await expect(lsps.request('lsps2.get_info', { future_feature1_param: 'x' })).rejects.toMatchObject({
      rpcCode: -32602,
      data: { unrecognized: ['future_feature1_param'] },
    });
    const [positional] = await exchange(
      node,
      [bytes('{"jsonrpc":"2.0","id":"p1","method":"lsps2.get_info","params":["token"]}')],
      1,
    );
    expect(positional).toMatchObject({ id: 'p1', error: { code: -32602 } });
  });

  it('malformed JSON and a request split across two messages are -32700 with a null id; the link stays usable', async () => {
    const { node, lsps } = await specClient(0x55);
    const whole = '{"jsonrpc":"2.0","id":"split-1","method":"lsps0.list_protocols","params":{}}';
    const answers = await exchange(
      node,
      [bytes('{"jsonrpc":"2.0",'), bytes(whole.slice(18)), bytes('{"id": nope}'), bytes('{} {}')],
      4,
    );
    expect(answers).toEqual(
      Array(4).fill({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }),
    );
    expect(await lsps.listProtocols()).toEqual([1, 2]);
    expect(node.isConnected(s.lsp.nodeId)).toBe(true);
  });

  it('the largest message BOLT 8 carries is read; a larger one cannot leave; a huge param is -32602', async () => {
    const { node } = await specClient(0x56);
    const request = '{"jsonrpc":"2.0","id":"big","method":"lsps0.list_protocols","params":{}}';
    const padded = bytes(request + ' '.repeat(LSPS0_MAX_PAYLOAD_BYTES - request.length));
    expect(padded.length).toBe(LSPS0_MAX_PAYLOAD_BYTES);
    const token = 'x'.repeat(60_000);
    const [big, huge] = await exchange(
      node,
      [
        padded,
        bytes(`{"jsonrpc":"2.0","id":"huge","method":"lsps2.get_info","params":{"token":"${token}"}}`),
      ],
      2,
    );
    expect(big).toEqual({ jsonrpc: '2.0', id: 'big', result: { protocols: [1, 2] } });
    expect(huge).toMatchObject({ id: 'huge', error: { code: -32602, data: { property: 'token' } } });
    expect(() =>
      node.customMessages.send(s.lsp.nodeId, LSPS0_MESSAGE_TYPE, new Uint8Array(LSPS0_MAX_PAYLOAD_BYTES + 1)),
    ).toThrow(/at most 65533/);
  });

  it('a notification (no id) gets no answer', async () => {
    const { node } = await specClient(0x57);
    const answers = await exchange(
      node,
      [
        bytes('{"jsonrpc":"2.0","method":"lsps0.list_protocols","params":{}}'),
        bytes('{"jsonrpc":"2.0","method":"lsps9.nonsense"}'),
        bytes('{"jsonrpc":"2.0","id":"after","method":"lsps0.list_protocols","params":{}}'),
      ],
      1,
    );
    await new Promise((r) => setTimeout(r, 300)); // anything answered to the notifications would be here by now
    expect(answers).toEqual([{ jsonrpc: '2.0', id: 'after', result: { protocols: [1, 2] } }]);
  });

  it('a peer that never answers: the client times its request out and forgets it', async () => {
    const { node } = await specClient(0x58);
    // the devnet router speaks no LSPS: it ignores type 37913 (odd) and never answers
    await node.connect(s.net.router.nodeId, tcp('127.0.0.1', s.net.router.port));
    const silent = createLspsClient(node, s.net.router.nodeId, { timeoutMs: 500 });
    const asked = silent.listProtocols();
    expect(silent.pending).toBe(1);
    await expect(asked).rejects.toSatisfy((e) => e instanceof LspsError && e.code === 'UNAVAILABLE');
    expect(silent.pending).toBe(0);
    silent.close();
  });

  it('a client that buys and never comes back: its held payment fails at the hold timeout, nothing stays', async () => {
    const { node, lsps } = await specClient(0x59);
    const jit = await lsps.receiveJit(node, { amountMsat: 20_000_000n, description: 'gone' });
    node.disconnect(s.lsp.nodeId);
    await waitUntil('the LSP saw it leave', () => !s.lsp.isConnected(node.nodeId), 10_000);
    expect(lsps.pending).toBe(0);
    const started = Date.now();
    // bLIP 52: the LSP holds the payment for the client (here JIT_HOLD_TIMEOUT_SEC 10), then fails it
    await expect(s.net.router.node.payInvoice(jit.bolt11, { timeoutMs: 60_000 })).rejects.toSatisfy((e) =>
      isNodeError(e),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
    const scid = parseScid(jit.jitChannelScid);
    expect(await s.store.listIntercepts({ scid, state: 'held' })).toEqual([]);
    expect(await s.store.getJitChannel(scid)).toBeUndefined(); // no channel was opened for it
    expect(s.server.lsps.pending).toBe(0);
  }, 90_000);
});
