// The Web Worker that runs the wallet's node. It holds the wallet's Web Lock for as long as it runs:
// a second tab (or the installed app while a tab has it) gets `locked-elsewhere` and starts nothing.
import { initLdkFromModule, initLdkFromUrl, nodeIdentity, startMark, wasmMemoryUsage } from '@lpw/node';
import { get as idbGet } from 'idb-keyval';
import wasmUrl from 'lightningdevkit/liblightningjs.wasm?url';
import { deriveSecrets, openVault, sealMnemonic, type WalletSecrets } from '../lib/vault.ts';
import { describeError } from './errors.ts';
import {
  type CommandResult,
  type FromWorker,
  type ToWorker,
  WalletCommandError,
  type WalletSnapshot,
} from './protocol.ts';
import { WalletRuntime } from './runtime.ts';
import { emptySnapshot, snapshotKey } from './snapshot.ts';

const scope = self as unknown as {
  postMessage(message: FromWorker): void;
  addEventListener(type: 'message', fn: (event: MessageEvent<ToWorker>) => void): void;
};
const post = (message: FromWorker) => scope.postMessage(message);
startMark('worker-loaded');
// LDK's WASM memory is this worker's alone and never shrinks: a read-only getter on the worker's global
// lets DevTools (and the bench's long stream, bench/src/pwa-stream-run.ts) watch it; it changes nothing
Object.assign(self, { lpwWasmMemory: wasmMemoryUsage });
// LDK's WASM comes from the page (`loadLdk`), compiled in a worker of its own (ldk-module.ts), while
// the vault is opened or the lock screen still shows; without a module the worker loads the file.
// `open` awaits the same load, and a failure here is the one it reports.
let ldkModuleArrived: (module: WebAssembly.Module | undefined) => void = () => {};
const ldkLoaded = new Promise<WebAssembly.Module | undefined>((resolve) => {
  ldkModuleArrived = resolve;
}).then((module) => (module ? initLdkFromModule(module) : initLdkFromUrl(wasmUrl)));
void ldkLoaded.then(
  () => startMark('wasm-loaded'),
  () => {},
);

const runtime = new WalletRuntime(
  () => ldkLoaded,
  (snapshot) => post({ type: 'snapshot', snapshot }),
  (level, message) => {
    if (level === 'error' || level === 'warn') post({ type: 'log', level, message });
  },
);

let releaseLock: (() => void) | undefined;
/** The secrets the words derive, from `unlock` or `seal` until `open` hands them to the node. */
let secrets: WalletSecrets | undefined;

/** Holds `lpw-wallet-<id>` until the worker ends; false when another context holds it. */
function takeWalletLock(walletId: string): Promise<boolean> {
  if (!('locks' in navigator)) return Promise.resolve(true); // no Web Locks: nothing to coordinate with
  return new Promise((resolve) => {
    void navigator.locks.request(`lpw-wallet-${walletId}`, { ifAvailable: true }, (lock) => {
      if (!lock) {
        resolve(false);
        return undefined;
      }
      resolve(true);
      return new Promise<void>((release) => {
        releaseLock = release;
      });
    });
  });
}

function lockedElsewhere(lspUrl: string): WalletSnapshot {
  return {
    ...emptySnapshot(lspUrl),
    status: 'locked-elsewhere',
    statusReason:
      'This wallet is open in another tab or in the installed app. Close it there to use it here.',
  };
}

/** Whether the wallet this device holds as `walletId` last ran on this node seed (its saved snapshot says so). */
async function isWalletOf(walletId: string, nodeSeed: Uint8Array): Promise<boolean> {
  await ldkLoaded; // the node id comes from LDK's key manager
  const nodeId = nodeIdentity(nodeSeed).nodeId;
  const saved = await idbGet<WalletSnapshot>(snapshotKey(walletId)).catch(() => undefined);
  return saved?.nodeId === nodeId;
}

async function run(message: ToWorker): Promise<CommandResult[keyof CommandResult]> {
  const { command } = message;
  switch (command.type) {
    case 'loadLdk':
      ldkModuleArrived(command.module);
      return undefined;
    case 'unlock':
      secrets = await deriveSecrets(await openVault(command.vault, command.secret));
      startMark('unlocked');
      return undefined;
    case 'seal': {
      const derived = await deriveSecrets(command.mnemonic);
      const sameWallet =
        command.replacing !== undefined && (await isWalletOf(command.replacing, derived.nodeSeed));
      const vault = await sealMnemonic(
        command.mnemonic,
        command.secret,
        command.salt,
        sameWallet ? command.replacing : undefined,
      );
      secrets = derived;
      return vault;
    }
    case 'revealWords':
      return (await openVault(command.vault, command.secret)).split(' ');
    case 'open': {
      startMark('open');
      if (!secrets) throw new WalletCommandError('LOCKED', 'Unlock the wallet first');
      if (!(await takeWalletLock(command.request.walletId))) {
        post({ type: 'snapshot', snapshot: lockedElsewhere(command.request.lspUrl) });
        return undefined;
      }
      // the runtime keeps them for as long as the wallet is open (it logs in and signs with them)
      const { nodeSeed, backupKeys, streamKey } = secrets;
      secrets = undefined;
      await runtime.open({ ...command.request, nodeSeed, backupKeys, streamKey });
      return undefined;
    }
    case 'quoteReceive':
      return runtime.receive.quote(command.amountMsat, command.feeCapMsat);
    case 'createInvoice':
      return runtime.receive.createInvoice(command.amountMsat, command.description, command.quote);
    case 'pay':
      return runtime.pay.invoice(command.bolt11, command.amountMsat, command.maxFeeMsat);
    case 'estimateFee':
      return runtime.pay.estimateFee(command.bolt11);
    case 'payOffer':
      return runtime.pay.offer(command.offer, command.amountMsat, command.maxFeeMsat);
    case 'offer':
      return runtime.pay.myOffer();
    case 'relay':
      return runtime.relay(command.request);
    case 'rates':
      return runtime.rates();
    case 'startStream':
      return runtime.streams.startStream(command.request);
    case 'streamControl':
      await runtime.streams.control(command.id, command.action);
      return undefined;
    case 'onchainAddress':
      return runtime.receive.onchainAddress();
    case 'prepareOnchainSend':
      return runtime.pay.prepareOnchainSend(command.destination, command.amountMsat);
    case 'sendOnchain':
      return runtime.pay.sendOnchain(command.id);
    case 'closeChannel':
      runtime.pay.closeChannel(command.channelId, command.force);
      return undefined;
    case 'exportBackup':
      return runtime.exportBackup();
    case 'claimAddress':
      return runtime.address.claim(command.name);
    case 'releaseAddress':
      await runtime.address.release();
      return undefined;
    case 'setAddressFeeCap':
      runtime.address.feeCapMsat = command.feeCapMsat;
      return undefined;
    case 'retry':
      runtime.retry();
      return undefined;
    case 'close':
      await runtime.close();
      releaseLock?.();
      return undefined;
  }
}

scope.addEventListener('message', (event) => {
  const message = event.data;
  run(message).then(
    (value) => post({ type: 'reply', id: message.id, ok: true, value }),
    (error: unknown) => post({ type: 'reply', id: message.id, ok: false, error: describeError(error) }),
  );
});
