// A process of its own for the one outcome that kills LDK's WASM instance (every node in it): a
// wallet restored from a backup one payment old reconnects to its LSP, in recovery mode or not.
// Prints one JSON line: whether it panicked ("We have fallen behind") and whether the LSP closed.
// Run by recovery.test.ts: `node --import tsx stale-restore-child.ts recover|plain`.

import { waitUntil } from '@lpw/devnet-chain';
import { MemoryStore } from '../src/persist/memory.ts';
import { inMemory } from '../src/transport/memory.ts';
import { testNet } from './harness.ts';

const recoverChannels = process.argv[2] === 'recover';
let fallenBehind = false;
const report = (outcome: Record<string, unknown>) => {
  process.stdout.write(`${JSON.stringify({ fallenBehind, ...outcome })}\n`);
  process.exit(0);
};
process.on('uncaughtException', (e) => report({ panicked: String(e) }));
// LDK's panic message reaches JS through console.log ("[fd 2]: ..."), piece by piece
const log = console.log.bind(console);
console.log = (...args: unknown[]) => {
  if (args.some((a) => String(a).includes('We have fallen behind'))) fallenBehind = true;
  log(...args);
};

const net = await testNet('stale-restore');
const quiet = { log: () => {} };
const { node: lsp } = await net.make('lsp', 0x15, { role: 'lsp', ...quiet });
net.devnet.fund(await lsp.newAddress(), 1_500_000n, { confirmations: 1 });
await lsp.syncChain();
const store = new MemoryStore();
const wallet = (name: string, s: MemoryStore, recover = false) =>
  net.make(name, 0x21, {
    role: 'wallet',
    store: s,
    trustedPeers: [lsp.nodeId],
    recoverChannels: recover,
    ...quiet,
  });
const { node } = await wallet('wallet', store);
await node.connect(lsp.nodeId, inMemory(lsp));
const ready = node.waitFor('channel-ready');
lsp.openChannel({ peerId: node.nodeId, capacitySat: 1_000_000n, pushMsat: 300_000_000n });
await ready;
await net.mine(1, [lsp, node]);
await waitUntil(
  'usable',
  () => node.listChannels()[0]?.isUsable === true && lsp.listChannels()[0]?.isUsable === true,
);
const invoice = node.createInvoice({ amountMsat: 10_000_000n, description: 'one', expirySecs: 600 });
const backup = store.snapshot(); // before the payment: one state behind once it is paid
await lsp.payInvoice(invoice.bolt11);
await node.stop();

const { node: restored } = await wallet('restored', new MemoryStore({ initial: backup }), recoverChannels);
await restored.connect(lsp.nodeId, inMemory(lsp));
const [txid, vout] = restored.recoveryStatus()[0]?.fundingTxo.split(':') ?? [
  lsp.listChannels()[0]!.fundingTxo!.split(':')[0],
  '0',
];
await waitUntil(
  'LSP close',
  () => net.devnet.chain.outspend(txid!, Number(vout)) !== undefined,
  10_000,
).catch(() => {});
report({ panicked: false, lspClosed: net.devnet.chain.outspend(txid!, Number(vout)) !== undefined });
