// The wallet's backup on its peer WebSocket (issue 11 item 7), against a running LSP (real LDK on both
// ends, real sockets, both store backends): a commit is released once its backup is on the socket,
// the LSP stores it before it reads the wallet's next message, a refused store closes the socket with
// nothing after it read, the HTTP route takes over while no socket is open, and a socket lost between
// the store and its answer loses nothing.
import { PEER_WS_BACKUP_PROTOCOL } from '@lpw/api';
import {
  BackedUpStore,
  BackupError,
  type BackupTransport,
  BackupUploader,
  decodeBackup,
  deriveBackupKeys,
  httpBlobClient,
  PeerBackupLink,
} from '@lpw/backup';
import { type Devnet, startDevnet, waitUntil } from '@lpw/devnet';
import { type LightningNode, MemoryStore, type WebSocketConstructor } from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLspClient, type LspClient } from '../src/client/index.ts';
import { createLspsClient } from '../src/client/lsps.ts';
import { loadConfig } from '../src/config.ts';
import { createLsp, type Lsp } from '../src/lsp.ts';
import type { LspStore, PutBackupResult } from '../src/store/types.ts';
import { walletOf } from './prepared-lsp.ts';
import { backends } from './stores.ts';
import { tempDir } from './temp-dir.ts';

/** Every wallet socket the tests open, to cut one as a network would. */
const sockets: WebSocket[] = [];
class TrackedWebSocket extends WebSocket {
  constructor(url: string, protocols?: string[]) {
    super(url, protocols);
    sockets.push(this);
  }
}
const WS = TrackedWebSocket as unknown as WebSocketConstructor;
const keys = deriveBackupKeys(new Uint8Array(64).fill(5));
const manager = (n: number) => [{ key: 'ldk/manager', value: Uint8Array.of(n) }];

/** The lease and version over tRPC, the blobs over the HTTP route, as the wallet's transport does. */
function transportOf(client: LspClient): BackupTransport {
  const blobs = httpBlobClient({ baseUrl: client.url, token: () => client.token ?? '' });
  return {
    acquireLease: async (r) => {
      const lease = await client.trpc.backup.acquireLease.mutate(r);
      return { ...lease, expiresAtMs: Date.parse(lease.expiresAt) };
    },
    releaseLease: async (fencingToken) => {
      await client.trpc.backup.releaseLease.mutate({ fencingToken });
    },
    currentVersion: async (key) =>
      (await client.trpc.backup.list.query()).entries.find((e) => e.key === key)?.version ?? 0,
    put: (key, blob, request) => blobs.put(key, blob, request),
    get: (key) => blobs.get(key),
  };
}

let devnet: Devnet;
beforeAll(async () => {
  await initLdkNode();
  devnet = await startDevnet({ seed: 'lsp-backup-peer-socket-tests' });
});
afterAll(() => devnet?.stop());

for (const backend of backends()) {
  describe(`backup on the peer socket, ${backend.name}`, () => {
    let lsp: Lsp;
    let store: LspStore;
    const wallets: LightningNode[] = [];
    /** What the LSP's store did, in order. */
    const events: string[] = [];
    /** While set, the LSP's backup writes wait for it (a slow database); a rejection fails them. */
    let storeGate: Promise<void> | undefined;
    /** While set, a stored backup's answer waits for it. */
    let answerGate: Promise<void> | undefined;
    const gate = () => {
      let open!: () => void;
      let fail!: (e: Error) => void;
      const p = new Promise<void>((resolve, reject) => {
        open = resolve;
        fail = reject;
      });
      return { p, open, fail };
    };

    beforeAll(async () => {
      store = await backend.open();
      const put = store.putBackup.bind(store);
      store.putBackup = async (input: Parameters<LspStore['putBackup']>[0]): Promise<PutBackupResult> => {
        await storeGate;
        const result = await put(input);
        events.push(result.ok ? `stored v${result.version}` : `refused ${result.reason}`);
        await answerGate;
        return result;
      };
      lsp = await createLsp(
        loadConfig({
          LOG_LEVEL: 'silent',
          PORT: '0',
          HOST: '127.0.0.1',
          DATA_DIR: tempDir('lsp-backup-socket-'),
        }),
        {
          store,
          seed: new Uint8Array(32).fill(11),
          devnet,
          node: { chainSyncIntervalMs: 0, logLevel: 'error' },
          log: pino({ level: 'silent' }),
        },
      );
    });
    afterAll(async () => {
      for (const w of wallets) await w.stop();
      await lsp?.stop();
    });

    const wallet = async (seedByte: number, backoff = { baseMs: 20, capMs: 100 }) => {
      const node = await walletOf(devnet, lsp.node.nodeId, seedByte);
      wallets.push(node);
      const client = createLspClient({ url: lsp.url, WebSocket: WS });
      await client.login(node);
      const link = new PeerBackupLink(PEER_WS_BACKUP_PROTOCOL);
      const uploader = new BackupUploader({
        transport: transportOf(client),
        nodeId: node.nodeId,
        keys,
        deviceId: `phone-${seedByte}`,
        takeOver: true,
        peerLink: link,
        backoff,
      });
      await uploader.start();
      const backedUp = new BackedUpStore(new MemoryStore(), uploader);
      await backedUp.load();
      const connect = async () => {
        await waitUntil('unlinked', () => !node.isConnected(lsp.node.nodeId), 5_000);
        await backedUp.beforePeerLink();
        await client.connect(node, { backup: link });
        await waitUntil('linked', () => lsp.node.isConnected(node.nodeId), 15_000);
      };
      const lsps = createLspsClient(node, lsp.node.nodeId, { timeoutMs: 10_000 });
      const lspCopy = async () => {
        const row = await store.getBackup(node.nodeId, 'channel-state');
        return (
          row && (await decodeBackup(row.blob, { nodeId: node.nodeId, keys })).entries.get('ldk/manager')
        );
      };
      return { node, client, link, uploader, backedUp, connect, lsps, lspCopy };
    };

    it('a commit is released once its backup is on the socket; the LSP stores it before reading on', async () => {
      const w = await wallet(0x41);
      await w.connect();
      events.length = 0;
      const slow = gate();
      storeGate = slow.p;
      // released while the LSP's database is still writing: no round trip in the commit
      await w.backedUp.commit(manager(1));
      expect(w.uploader.status).toMatchObject({ version: 0, behindBy: 1 });
      // a Lightning message sent after it (an LSPS0 request through LDK) waits behind the write
      const answered = w.lsps.listProtocols().then(() => events.push('answered'));
      await new Promise((r) => setTimeout(r, 300));
      expect(events).toEqual([]);
      storeGate = undefined;
      slow.open();
      await answered;
      expect(events).toEqual(['stored v1', 'answered']);
      await w.uploader.durable(1);
      expect(w.uploader.status).toMatchObject({ version: 1, behindBy: 0 });
      expect(await w.lspCopy()).toEqual(Uint8Array.of(1));
    });

    it('a refused store closes the socket unread; the backup goes over HTTP before a new link', async () => {
      const w = await wallet(0x42, { baseMs: 2_000, capMs: 2_000 }); // the HTTP retry comes later
      await w.connect();
      await w.backedUp.commit(manager(1));
      await w.uploader.durable(1);
      events.length = 0;
      const failing = gate();
      storeGate = failing.p;
      await w.backedUp.commit(manager(2)); // on the socket
      const request = w.lsps.listProtocols().then(
        () => 'answered',
        (e: Error) => `failed: ${e.message}`,
      );
      await new Promise((r) => setTimeout(r, 300));
      storeGate = undefined;
      failing.fail(new Error('database unavailable'));
      // the LSP never read the request: no answer, the link closed
      expect(await request).toMatch(/^failed/);
      await waitUntil('closed', () => !lsp.node.isConnected(w.node.nodeId), 5_000);
      expect(events).toEqual([]);
      expect(w.uploader.status.problem?.code).toBe('BACKUP_UNAVAILABLE');
      expect(w.uploader.unconfirmedAhead).toBe(2);
      // a new link waits until the state is durable through the HTTP route, then connects
      await w.connect();
      expect(w.uploader.unconfirmedAhead).toBeUndefined();
      expect(await w.lspCopy()).toEqual(Uint8Array.of(2));
      expect(await w.lsps.listProtocols()).toContain(2);
    });

    it('without an open socket a commit waits for the HTTP route, as before', async () => {
      const w = await wallet(0x43);
      expect(w.link.put('channel-state', new Uint8Array(1), { expectedVersion: 0, leaseToken: 1 })).toBe(
        undefined,
      );
      await w.backedUp.commit(manager(7));
      expect(w.uploader.status).toMatchObject({ version: 1, behindBy: 0 });
      expect(w.uploader.unconfirmedAhead).toBeUndefined();
      expect(await w.lspCopy()).toEqual(Uint8Array.of(7));
    });

    it('a socket lost after the LSP stored a backup and before its answer loses nothing', async () => {
      const w = await wallet(0x44);
      await w.connect();
      events.length = 0;
      const held = gate();
      answerGate = held.p;
      await w.backedUp.commit(manager(3));
      await waitUntil('stored', () => events.includes('stored v1'), 5_000);
      sockets.at(-1)?.terminate(); // the network drops before the LSP's answer
      answerGate = undefined;
      held.open();
      await waitUntil('closed', () => !lsp.node.isConnected(w.node.nodeId), 5_000);
      // the wallet cannot know whether it landed: it settles through HTTP (the version it wrote)
      await w.connect();
      expect(w.uploader.unconfirmedAhead).toBeUndefined();
      expect(w.uploader.status.fenced).toBe(false);
      expect(await w.lspCopy()).toEqual(Uint8Array.of(3));
      await w.backedUp.commit(manager(4));
      await w.uploader.durable(2);
      expect(await w.lspCopy()).toEqual(Uint8Array.of(4));
    });

    it('refusals on the socket are the typed errors of the HTTP route', async () => {
      const w = await wallet(0x45);
      await w.connect();
      const put = w.link.put('channel-state', new Uint8Array(10), { expectedVersion: 0, leaseToken: 1 });
      const error = await put?.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackupError);
      expect(['BACKUP_TRUNCATED', 'BACKUP_CORRUPT']).toContain((error as BackupError).code);
      await waitUntil('closed', () => !lsp.node.isConnected(w.node.nodeId), 5_000);
    });

    it('a key the HTTP route would refuse is refused on the socket too, and nothing is stored', async () => {
      const w = await wallet(0x46);
      await w.connect();
      events.length = 0;
      const put = w.link.put('../channel-state', new Uint8Array(10), { expectedVersion: 0, leaseToken: 1 });
      const error = await put?.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackupError);
      expect((error as BackupError).details).toMatchObject({ lspCode: 'INVALID_INPUT', field: 'key' });
      await waitUntil('closed', () => !lsp.node.isConnected(w.node.nodeId), 5_000);
      expect(events).toEqual([]);
    });
  });
}
