// The session: is there a wallet on this device, is it locked, and the vault operations (create,
// restore, unlock, lock, reveal words). The worker decrypts the words; unlocking starts the node in it,
// locking ends it.
import { del, get, set } from 'idb-keyval';
import { create } from 'zustand';
import { checkStorage, deviceId, type StorageVerdict } from '../lib/device.ts';
import { createPasskey, passkeyOutput } from '../lib/passkey.ts';
import { ReleaseError } from '../lib/release.ts';
import { lockOf, newVaultSalt, type UnlockSecret, type VaultRecord, vaultSalt } from '../lib/vault.ts';
import { type NodeWorker, startNodeWorker } from '../worker/client.ts';
import type { WalletSnapshot } from '../worker/protocol.ts';
import { useNav } from './nav.ts';
import { useSettings } from './settings.ts';
import { useUpdates } from './updates.ts';
import { useWallet } from './wallet.ts';

const VAULT_KEY = 'lpw-vault';
/** Set while a restored wallet has not fetched its channel state yet. */
const RESTORE_PENDING_KEY = 'lpw-restore-pending';
/** The person agreed (once, on this device) to keep a wallet in storage the browser may evict. */
const STORAGE_RISK_KEY = 'lpw-storage-risk-accepted';

export type Phase = 'loading' | 'no-wallet' | 'locked' | 'unlocked';

/** The lock the person chose when creating or restoring: typed text, or a new passkey. */
export type LockChoice = { kind: 'pin' | 'passphrase'; text: string } | { kind: 'passkey' };

interface SessionState {
  phase: Phase;
  vault: VaultRecord | undefined;
  storage: StorageVerdict | undefined;
  /** The person agreed to go on with best-effort storage. */
  storageRiskAccepted: boolean;
  init(): Promise<void>;
  createWallet(mnemonic: string, lock: LockChoice): Promise<void>;
  /** `backupFile`: a backup file the person exported earlier, a copy the LSP does not control. */
  restoreWallet(mnemonic: string, lock: LockChoice, backupFile?: Uint8Array): Promise<void>;
  /**
   * From the lock screen, its PIN, passphrase or passkey lost: the words open the wallet under a new
   * lock. This device's wallet, when they are its words, runs on with its own channel state; else the
   * words' wallet is restored. The stored vault is replaced only once the node runs.
   */
  restoreFromLock(mnemonic: string, lock: LockChoice, backupFile?: Uint8Array): Promise<void>;
  /** `text`: the PIN or passphrase; undefined for a passkey, which is asked here. */
  unlock(text?: string): Promise<void>;
  lock(): Promise<void>;
  revealWords(text?: string): Promise<string[]>;
  acceptStorageRisk(): void;
}

/** The secret that opens `vault`: the typed text, or the passkey's answer (asked now). */
async function secretFor(vault: VaultRecord, text: string | undefined): Promise<UnlockSecret> {
  if (vault.kdf === 'WebAuthn-PRF')
    return {
      kind: 'passkey',
      credentialId: vault.credentialId,
      prfOutput: await passkeyOutput(vault.credentialId, vaultSalt(vault)),
    };
  return { kind: lockOf(vault) === 'passphrase' ? 'passphrase' : 'pin', text: text ?? '' };
}

/** A new vault's secret: a passkey is made here (WebAuthn runs on the page), over the vault's salt. */
async function sealingSecret(lock: LockChoice, salt: Uint8Array): Promise<UnlockSecret> {
  if (lock.kind !== 'passkey') return lock;
  return { kind: 'passkey', ...(await createPasskey(salt)) };
}

const toWallet = (snapshot: WalletSnapshot) => useWallet.getState().receiveSnapshot(snapshot);

/**
 * A worker started as the app starts (and again when it locks): it loads LDK (the module the page has
 * compiled in a worker of its own, worker/ldk-module.ts) while the person types, so an unlock does
 * not wait for it. No words reach it before an unlock, and not at all when an update nobody agreed to
 * took over.
 */
let spareWorker: NodeWorker | undefined;

function prewarmWorker(): void {
  if (spareWorker || useUpdates.getState().untrusted) return;
  spareWorker = startNodeWorker(toWallet);
}

/**
 * Starts a worker (or takes the warm one) and has it decrypt (or seal) the words; the node starts
 * only once that worked. A wrong PIN ends the worker and changes nothing.
 */
async function withUnlockedWorker<T>(
  unlockIn: (worker: NodeWorker) => Promise<T>,
): Promise<{ worker: NodeWorker; value: T }> {
  // the worker's code would come from a version nobody checked (stores/updates.ts): the words stay out of it
  if (useUpdates.getState().untrusted) {
    spareWorker?.terminate();
    spareWorker = undefined;
    throw new ReleaseError(
      'RELEASE_UNTRUSTED',
      'A version you never agreed to has taken over; the wallet stays locked',
    );
  }
  const worker = spareWorker ?? startNodeWorker(toWallet);
  spareWorker = undefined;
  try {
    return { worker, value: await unlockIn(worker) };
  } catch (error) {
    worker.terminate();
    throw error;
  }
}

/**
 * Posts the node's start to the worker at once (no await before the `open` leaves: a start's time
 * counts from here) and resolves when the node runs. Messages reach the worker in order, so the fee
 * cap is set before the node opens.
 */
function startNode(
  worker: NodeWorker,
  vault: VaultRecord,
  start: { restore: boolean; deviceId: string; restoreFile?: Uint8Array },
): Promise<void> {
  useWallet.getState().attach(worker);
  const capSet = worker.call({ type: 'setAddressFeeCap', feeCapMsat: useSettings.getState().feeCapMsat });
  const opened = worker.call({
    type: 'open',
    request: {
      walletId: vault.walletId,
      lspUrl: useSettings.getState().lspUrl,
      esploraUrl: useSettings.getState().esploraUrl || undefined,
      secondEsploraUrl: useSettings.getState().secondEsploraUrl || undefined,
      deviceId: start.deviceId,
      restore: start.restore,
      restoreFile: start.restoreFile,
    },
  });
  return Promise.all([capSet, opened]).then(() => undefined);
}

async function sealNew(mnemonic: string, lock: LockChoice, replacing?: string) {
  const salt = newVaultSalt();
  const secret = await sealingSecret(lock, salt);
  return withUnlockedWorker((worker) =>
    worker.call({ type: 'seal', mnemonic, secret, salt, ...(replacing ? { replacing } : {}) }),
  );
}

/** A vault from a restore on the lock screen, written over the stored one once the node runs on it. */
let unconfirmedVault: VaultRecord | undefined;

export const useSession = create<SessionState>((setState, getState) => ({
  phase: 'loading',
  vault: undefined,
  storage: undefined,
  storageRiskAccepted: false,
  async init() {
    // the worker loads before the stored vault is even read: LDK is the longest step of a start, and a
    // first visit needs it too (creating a wallet seals in that worker)
    prewarmWorker();
    await useSettings.getState().load();
    const [vault, storage, accepted] = await Promise.all([
      get<VaultRecord>(VAULT_KEY).catch(() => undefined),
      checkStorage(),
      get<boolean>(STORAGE_RISK_KEY).catch(() => false),
    ]);
    setState({
      vault,
      storage,
      storageRiskAccepted: accepted === true,
      phase: vault ? 'locked' : 'no-wallet',
    });
  },
  async createWallet(mnemonic, lock) {
    const { worker, value: vault } = await sealNew(mnemonic, lock);
    await set(VAULT_KEY, vault);
    const started = startNode(worker, vault, { restore: false, deviceId: await deviceId() });
    setState({ vault, phase: 'unlocked' });
    useNav.getState().go('home');
    await started;
  },
  async restoreWallet(mnemonic, lock, backupFile) {
    const { worker, value: vault } = await sealNew(mnemonic, lock);
    await set(RESTORE_PENDING_KEY, vault.walletId);
    await set(VAULT_KEY, vault);
    const started = startNode(worker, vault, {
      restore: true,
      deviceId: await deviceId(),
      restoreFile: backupFile,
    });
    setState({ vault, phase: 'unlocked' });
    useNav.getState().go('home');
    await started;
  },
  async restoreFromLock(mnemonic, lock, backupFile) {
    const stored = getState().vault;
    if (!stored) return getState().restoreWallet(mnemonic, lock, backupFile);
    const { worker, value: vault } = await sealNew(mnemonic, lock, stored.walletId);
    const sameWallet = vault.walletId === stored.walletId;
    if (!sameWallet) await set(RESTORE_PENDING_KEY, vault.walletId);
    unconfirmedVault = vault;
    const started = startNode(worker, vault, {
      restore: !sameWallet,
      deviceId: await deviceId(),
      restoreFile: backupFile,
    });
    setState({ vault, phase: 'unlocked' });
    useNav.getState().go('home');
    await started;
  },
  async unlock(text) {
    const vault = getState().vault;
    if (!vault) throw new Error('No wallet on this device');
    const secret = await secretFor(vault, text);
    // the page's own reads run while the worker decrypts the words; the open goes out before Home renders
    const reads = Promise.all([get<string>(RESTORE_PENDING_KEY), deviceId()]);
    const { worker } = await withUnlockedWorker((w) => w.call({ type: 'unlock', vault, secret }));
    const [pendingRestore, device] = await reads;
    const started = startNode(worker, vault, {
      restore: pendingRestore === vault.walletId,
      deviceId: device,
    });
    setState({ phase: 'unlocked' });
    useNav.getState().go('home');
    await started;
  },
  async lock() {
    const worker = useWallet.getState().worker;
    if (worker) {
      await Promise.race([worker.call({ type: 'close' }), new Promise((r) => setTimeout(r, 5_000))]).catch(
        () => {},
      );
      worker.terminate();
    }
    useWallet.getState().attach(undefined);
    if (unconfirmedVault) {
      // the restore never ran: the lock stays the one stored
      unconfirmedVault = undefined;
      setState({ vault: await get<VaultRecord>(VAULT_KEY).catch(() => undefined) });
    }
    setState({ phase: getState().vault ? 'locked' : 'no-wallet' });
  },
  async revealWords(text) {
    const vault = getState().vault;
    const worker = useWallet.getState().worker;
    if (!vault || !worker) throw new Error('Unlock the wallet first');
    return worker.call({ type: 'revealWords', vault, secret: await secretFor(vault, text) });
  },
  acceptStorageRisk: () => {
    setState({ storageRiskAccepted: true });
    void set(STORAGE_RISK_KEY, true).catch(() => {});
  },
}));

useSession.subscribe((state) => {
  if (state.phase === 'locked') prewarmWorker();
});

/** Once the node ran with the restored state, later unlocks are ordinary ones. */
useWallet.subscribe((state) => {
  if (state.snapshot?.status !== 'running') return;
  void del(RESTORE_PENDING_KEY).catch(() => {});
  const vault = unconfirmedVault;
  unconfirmedVault = undefined;
  if (vault) void set(VAULT_KEY, vault).catch(() => {});
});
