// The wallet process the crash test kills: a node on a SQLite file, the devnet reached over Esplora
// HTTP (the node's own chain layer), its LSP (the test process) over TCP. It announces itself with a `ready` line on stdout,
// answers commands from stdin, and pays the LSP on its own when asked to make traffic. Run with
// `node --import tsx child.ts '<config json>'` (the crash test runs an esbuild bundle of it); it
// never exits by itself: it is SIGKILLed.

import { createNode } from '../../src/builder.ts';
import { initLdkNode } from '../../src/ldk/init-node.ts';
import type { LightningNode } from '../../src/node.ts';
import { SqliteStore } from '../../src/persist/sqlite.ts';
import { tcp } from '../../src/transport/tcp.ts';
import {
  type Command,
  decodeLine,
  encodeLine,
  FIXED_FEES,
  lineReader,
  prng,
  type Report,
} from './protocol.ts';
import { nodeView } from './view.ts';

export interface ChildConfig {
  dbPath: string;
  esploraUrl: string;
  seedHex: string;
  lspNodeId: string;
  lspHost: string;
  lspPort: number;
  compactMonitorEvery: number;
  chainSyncIntervalMs: number;
  /** The manager as chunks or under the plain key: the rig alternates, so each start migrates. */
  managerChunks: boolean;
}

const send = (report: Report) => process.stdout.write(encodeLine(report));

async function main(): Promise<void> {
  const config = decodeLine<ChildConfig>(process.argv[2] ?? '');
  const startMs = Date.now();
  await initLdkNode();
  const store = new SqliteStore(config.dbPath);
  const node = await createNode({
    seed: Buffer.from(config.seedHex, 'hex'),
    network: 'regtest',
    role: 'wallet',
    store,
    chain: { esploraUrl: config.esploraUrl },
    feeOverrides: FIXED_FEES,
    trustedPeers: [config.lspNodeId],
    compactMonitorEvery: config.compactMonitorEvery,
    managerChunks: config.managerChunks,
    chainSyncIntervalMs: config.chainSyncIntervalMs,
    logLevel: 'error',
    log: (e) => process.stderr.write(`[ldk ${e.level}] ${e.module}:${e.line} ${e.message}\n`),
  });
  for (const kind of [
    'payment-received',
    'payment-sent',
    'payment-failed',
    'channel-ready',
    'channel-closed',
    'peer-connected',
    'peer-disconnected',
    'error',
  ] as const) {
    // an error event's `cause` may not serialize: code and message say enough
    node.on(kind, (event) =>
      send({
        t: 'event',
        kind,
        event: event.kind === 'error' ? { code: event.code, message: event.message } : event,
      }),
    );
  }
  await node.connect(config.lspNodeId, tcp(config.lspHost, config.lspPort));
  send({ t: 'ready', nodeId: node.nodeId, startMs, view: nodeView(node, false) });
  process.stdin.on(
    'data',
    lineReader((line) => handle(node, config, decodeLine<Command>(line))),
  );
}

let trafficOn = false;

function handle(node: LightningNode, config: ChildConfig, command: Command): void {
  try {
    switch (command.op) {
      case 'state':
        send({ t: 'reply', id: command.id, view: nodeView(node, command.full) });
        return;
      case 'invoice': {
        const invoice = node.createInvoice({
          amountMsat: command.amountMsat,
          description: 'crash test',
          expirySecs: 3600,
        });
        send({ t: 'reply', id: command.id, bolt11: invoice.bolt11, paymentHash: invoice.paymentHash });
        return;
      }
      case 'traffic': {
        trafficOn = true;
        const random = prng(command.seed);
        for (let i = 0; i < command.concurrency; i++) void payLoop(node, config, random, command);
        send({ t: 'reply', id: command.id });
        return;
      }
      case 'quiet':
        trafficOn = false;
        send({ t: 'reply', id: command.id });
        return;
    }
  } catch (error) {
    send({ t: 'reply', id: command.id, error: error instanceof Error ? error.message : String(error) });
  }
}

/** Keysends to the LSP one after another until told to stop (or killed). */
async function payLoop(
  node: LightningNode,
  config: ChildConfig,
  random: ReturnType<typeof prng>,
  range: { minMsat: bigint; maxMsat: bigint },
): Promise<void> {
  while (trafficOn) {
    const amountMsat = random.bigint(range.minMsat, range.maxMsat);
    try {
      await node.keysend(config.lspNodeId, amountMsat, { timeoutMs: 60_000 });
    } catch {
      // refused (balance, in-flight limits) or failed: its record says so; wait for the channel
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

main().catch((error: unknown) => {
  send({ t: 'fatal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 50);
});
